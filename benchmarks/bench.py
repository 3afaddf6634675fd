"""One benchmark run: server, workers, every phase, and the figures as one JSON-ready dict."""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from statistics import median
from typing import Any

from benchmarks.at_rest import measure_at_rest
from benchmarks.drivers import ProjectDriver, TwinDriver, run_many
from benchmarks.history import ACTIVITY, TIMER, UPDATE, HistoryFigures, fetch_figures, summarise
from benchmarks.options import Options
from benchmarks.phases import Phase, measure
from benchmarks.procfs import machine_memory_gb
from benchmarks.proofs import measure_proof_cost
from benchmarks.server import start_dev_server, temporal_binary
from benchmarks.stack import ROOT, Stack, bench_converter
from benchmarks.twin import TwinPlan
from peer_review.logs import configure_logging
from peer_review.temporal.client import PeerReviewClient

# Lone reviews for the twin's calibration (one in quick mode, where a minute is all there is).
CALIBRATION_REVIEWS = 3


def _git(*arguments: str) -> str:
    done = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    cli = subprocess.run([str(temporal_binary()), "--version"], capture_output=True, text=True, check=False)
    return {
        # The code measured: the commit, and whether files outside benchmarks/ differed from it.
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": any(
            not line[3:].startswith("benchmarks/") for line in _git("status", "--porcelain").splitlines()
        ),
        "cores": os.cpu_count(),
        "memory_gb": machine_memory_gb(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "temporalio": version("temporalio"),
        "temporal_cli": cli.stdout.strip(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def _log_to_file(path: Path) -> None:
    # The in-process worker logs as the real one does (JSON, info), but into a file, not over the tables.
    configure_logging("json", "info")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(path.open("a"))


def _roles(server_pid: int, worker_pid: int) -> dict[str, int]:
    if worker_pid == os.getpid():
        return {"server": server_pid, "driver+worker": worker_pid}
    return {"server": server_pid, "worker": worker_pid, "driver": os.getpid()}


def _spread(items: list[str], count: int) -> list[str]:
    """An even sample across the run (early, middle and late reviews alike)."""
    if count >= len(items):
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


async def run_benchmark(options: Options) -> dict[str, Any]:
    about = machine()
    with tempfile.TemporaryDirectory(prefix="peer-review-bench-") as tmp:
        workdir = Path(tmp)
        _log_to_file(workdir / "bench.log")
        key_file = workdir / "keyring.json"
        server, client = await start_dev_server(
            workdir, persisted=options.persisted, converter=bench_converter(key_file)
        )
        try:
            stack = Stack(client, workdir, key_file, options.tuning, options.in_process_workers)
            project_settings, twin_settings = stack.settings("project"), stack.settings("twin")
            reviews = PeerReviewClient(client, project_settings)
            # Both workers poll throughout (an idle long poll costs nothing), so runs can alternate fairly.
            async with (
                stack.worker("project", project_settings) as project_pid,
                stack.worker("twin", twin_settings) as twin_pid,
            ):
                # Lone reviews, one after another: record batching makes the counts vary by one or two.
                lone = 1 if options.quick else CALIBRATION_REVIEWS
                calibration = await run_many(ProjectDriver(reviews, "CAL"), lone, 1)
                calibrated = [await fetch_figures(client, wid) for wid in calibration.workflow_ids]
                plan = TwinPlan(
                    *(round(median(h.count(kind) for h in calibrated)) for kind in (ACTIVITY, UPDATE, TIMER))
                )
                await run_many(TwinDriver(client, twin_settings.task_queue, plan, "TWIN-CAL"), 1, 1)
                phases: list[Phase] = []
                for concurrency, count in options.load_points():
                    project = ProjectDriver(reviews, f"P{concurrency}")
                    twin = TwinDriver(client, twin_settings.task_queue, plan, f"T{concurrency}")
                    phases.append(await measure(project, count, concurrency, _roles(server.pid, project_pid)))
                    phases.append(await measure(twin, count, concurrency, _roles(server.pid, twin_pid)))
                history = {
                    phase.label: summarise(
                        [
                            await fetch_figures(client, wid)
                            for wid in _spread(phase.run.workflow_ids, options.history_sample)
                        ]
                    )
                    for phase in phases[:2]
                }
                # A lone review's history is longer: with nothing else running, fewer completions share a task.
                history["project_lone"] = summarise(calibrated)
                # What proving the acting person costs, against what a whole review costs (all processes).
                review_cpu_ms = sum(phases[0].as_dict()["cpu_ms_per_review"].values())
                proofs = await measure_proof_cost(project_settings, review_cpu_ms, rounds=30 if options.quick else 300)
            at_rest = (
                await measure_at_rest(stack, options.at_rest, server.pid, cli_repeats=1 if options.quick else 3)
                if options.at_rest
                else None
            )
        finally:
            server.stop()
    about["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results = _results(options, about, calibrated, plan, phases, history, at_rest.as_dict() if at_rest else None)
    results["proofs"] = proofs.as_dict()
    return results


def _results(
    options: Options,
    about: dict[str, Any],
    calibrated: list[HistoryFigures],
    plan: TwinPlan,
    phases: list[Phase],
    history: dict[str, Any],
    at_rest: dict[str, Any] | None,
) -> dict[str, Any]:
    project, twin = phases[0].run, phases[1].run
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": {"quick": options.quick, "persisted": options.persisted},
        "parameters": {
            "reviews": options.reviews,
            "concurrency": options.concurrency,
            "latency_reviews": options.latency_reviews,
            "low_concurrency": options.low_concurrency,
            "at_rest": options.at_rest,
            "history_sample": options.history_sample,
            "worker_tuning": options.tuning,
            "in_process_workers": options.in_process_workers,
        },
        "machine": about,
        "calibration": {"project_histories": [asdict(h) for h in calibrated], "twin_plan": asdict(plan)},
        "throughput": {
            "concurrency": options.concurrency,
            "project_per_second": project.per_second,
            "twin_per_second": twin.per_second,
            "ratio": project.per_second / twin.per_second if twin.per_second else 0.0,
        },
        "runs": [phase.as_dict() for phase in phases],
        "history": {label: asdict(summary) for label, summary in history.items()},
        "at_rest": at_rest,
    }
