"""One benchmark run: server, workers, every phase, and the figures as one JSON-ready dict."""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.lifecycle import measure_lifecycle
from benchmarks.open_recommendations import measure_open_recommendations
from benchmarks.options import SIZES, Options
from benchmarks.procfs import machine_memory_gb
from benchmarks.proofs import measure_proof_cost
from benchmarks.records_reports import measure_reports
from benchmarks.retention import measure_retention
from benchmarks.scale import measure_scale
from benchmarks.server import start_dev_server
from benchmarks.stack import ROOT, Stack, bench_converter
from peer_review.logs import configure_logging
from peer_review.temporal.dev_server import wheel_binary


def _git(*arguments: str) -> str:
    done = subprocess.run(["git", *arguments], cwd=ROOT, capture_output=True, text=True, check=False)
    # Only the end is trimmed: `status --porcelain` lines start with a status column that may be a space.
    return done.stdout.rstrip()


# A fixed piece of pure Python on one core (larger is slower): the same commit measures slower on a slower or busier
# machine, and this shows when the machine changed between runs. Only a guide to how much: a service of several
# processes can slow down by more than one core's Python does (benchmarks/PERFORMANCE.md).
REFERENCE_WORK = 2_000_000


def cpu_reference_ms(tries: int = 5) -> float:
    """The best of `tries` timings of the reference work, in milliseconds."""
    best = float("inf")
    for _ in range(tries):
        began = time.perf_counter()
        sum(number * number for number in range(REFERENCE_WORK))
        best = min(best, time.perf_counter() - began)
    return round(best * 1000, 1)


def machine() -> dict[str, Any]:
    cli = subprocess.run([wheel_binary("temporal"), "--version"], capture_output=True, text=True, check=False)
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
        "locust": version("locust"),
        "temporal_cli": cli.stdout.strip(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "cpu_reference_ms_start": cpu_reference_ms(),
    }


def _log_to_file(path: Path) -> None:
    # The in-process worker logs as the real one does (JSON, info), but into a file, not over the tables.
    configure_logging("json", "info")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(path.open("a"))


def _parameters(options: Options) -> dict[str, Any]:
    chosen = (*SIZES, "low_concurrency", "in_process_workers", "shaped_without")
    return {name: getattr(options, name) for name in chosen} | {"worker_tuning": options.tuning}


async def run_benchmark(options: Options, keep: Path | None = None) -> dict[str, Any]:
    """Every phase; `keep` receives the load phase's files (its request log and locust's own tables)."""
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
            began = time.perf_counter()
            lifecycle = await measure_lifecycle(stack, options, server.pid)
            lifecycle_seconds = round(time.perf_counter() - began, 1)
            # What proving the acting person costs, against what a whole review costs (all processes).
            project = lifecycle.run("project", options.concurrency) or lifecycle.phases[0]
            proofs = await measure_proof_cost(
                stack.settings("project"),
                sum(project.as_dict()["cpu_ms_per_review"].values()),
                rounds=30 if options.quick else 300,
            )
            scale = await measure_scale(stack, options, server.pid) if options.at_rest else {}
            recommendations = (
                await measure_open_recommendations(stack, options.open_recommendations, server.pid)
                if options.open_recommendations
                else None
            )
            retention = (
                asdict(await measure_retention(stack, options.retention_reviews, options.retention_decisions))
                if options.retention_reviews
                else None
            )
        finally:
            server.stop()
            if keep is not None:
                _keep(workdir, keep)
    # Database only (no servers): after the others, so its disk writes do not disturb their timings.
    began = time.perf_counter()
    reports = await measure_reports(options.reports_reviews) if options.reports_reviews else []
    reports_seconds = round(time.perf_counter() - began, 1)
    about["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    about["cpu_reference_ms_end"] = cpu_reference_ms()
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": {"quick": options.quick, "persisted": options.persisted},
        "parameters": _parameters(options),
        "machine": about,
        **lifecycle.as_dict(options.concurrency),
        "lifecycle_seconds": lifecycle_seconds,
        "proofs": asdict(proofs),
        "scale": {key: value for key, value in scale.items() if key not in ("at_rest",)},
        "at_rest": scale.get("at_rest"),
        "open_recommendations": recommendations,
        "retention": retention,
        "reports": reports,
        "reports_seconds": reports_seconds,
    }


# The load phase's files worth keeping: locust's own tables, and every request (JSON lines) for re-plotting.
KEPT = (
    ("locust_stats.csv", "load-locust-stats.csv"),
    ("locust_failures.csv", "load-failures.csv"),
    ("load-requests.jsonl", "load-requests.jsonl"),
)


def _keep(workdir: Path, keep: Path) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    for name, target in KEPT:
        source = workdir / name
        # locust writes its tables even when empty (a header alone): keep one only when it has rows.
        header = 1 if name.endswith(".csv") else 0
        if source.exists() and len(source.read_text().splitlines()) > header:
            (keep / target).write_bytes(source.read_bytes())
        elif (keep / target).exists():
            (keep / target).unlink()  # from an earlier run
