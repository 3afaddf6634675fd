"""Scale at rest: many reviews open and waiting for a Chair, served by a real worker process.

The worker runs as `peer-review-worker` in its own process (benchmarks/scale.py starts it) so its memory is
its own (no load generator, no second worker in it). The CLI is the real `peer-review` command, timed from
the outside.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.procfs import cpu_seconds, memory_mb, wait_until_idle
from benchmarks.stack import ROOT
from peer_review.domain.models import Referral, Status
from peer_review.temporal.client import ListFilter, PeerReviewClient

BIN = Path(sys.executable).parent
WAITING = ListFilter(status=Status.AWAITING_CHAIR_DECISION)
# Started but not yet at rest: enough to keep the worker busy, few enough that sticky workflow tasks do not
# time out in a backlog (which would add replays the service never sees in normal running).
BACKLOG = 400
START_LANES = 20


@dataclass
class CliTiming:
    command: str
    seconds_median: float
    seconds_min: float
    rows: int | None
    exit_code: int


@dataclass
class AtRestFigures:
    reviews: int
    fill_seconds: float
    fill_per_second: float
    # CPU spent per review to bring it to rest: the worker process and the Temporal server.
    fill_worker_cpu_ms_per_review: float
    fill_server_cpu_ms_per_review: float
    worker_rss_idle_mb: float
    worker_rss_at_rest_mb: float
    worker_rss_peak_mb: float
    server_rss_at_rest_mb: float
    in_process_list_seconds: float
    listed: int
    cli: list[CliTiming] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


async def fill(reviews: PeerReviewClient, count: int, referral: Callable[[int], Referral]) -> None:
    """Start `count` reviews in index order, holding the backlog of not-yet-triaged ones under BACKLOG."""
    client = reviews.client
    # One slot per review started and not yet at rest; the watcher hands slots back as reviews settle.
    slots = asyncio.Semaphore(BACKLOG)
    next_index = iter(range(count))
    already = (await client.count_workflows(WAITING.query())).count

    async def lane() -> None:
        for index in next_index:
            await slots.acquire()
            await reviews.refer(referral(index))

    async def watch() -> None:
        at_rest = 0
        while at_rest < count:
            await asyncio.sleep(0.25)
            now = (await client.count_workflows(WAITING.query())).count - already
            for _ in range(now - at_rest):
                slots.release()
            at_rest = max(now, at_rest)

    await asyncio.gather(watch(), *(lane() for _ in range(START_LANES)))


def _run_cli(arguments: list[str], environment: dict[str, str], repeats: int) -> CliTiming:
    durations, rows, code = [], None, 0
    for _ in range(repeats):
        began = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "peer-review"), *arguments], env=environment, cwd=ROOT, capture_output=True, check=False
        )
        durations.append(time.perf_counter() - began)
        code = done.returncode
        rows = _rows(arguments, done.stdout.decode(errors="replace"))
    return CliTiming(" ".join(["peer-review", *arguments]), statistics.median(durations), min(durations), rows, code)


def _rows(arguments: list[str], output: str) -> int | None:
    if "--json" in arguments:
        try:
            return len(json.loads(output))
        except ValueError:
            return None
    # A table's title is "N review(s)", or "N of TOTAL review(s), ..." when it shows a page of them.
    found = re.search(r"(\d+)(?: of \d+)? review\(s\)", output)
    return int(found.group(1)) if found else None


async def measure_at_rest(
    reviews: PeerReviewClient,
    environment: dict[str, str],
    worker_pid: int,
    server_pid: int,
    count: int,
    referral: Callable[[int], Referral],
    cli_repeats: int = 3,
    every_listing: bool = True,
) -> AtRestFigures:
    """Fill `count` reviews on the idle worker `worker_pid`, then read its memory and time the CLI (the judged
    `list --status` alone, or with `every_listing` also the full listings and `--help`)."""
    await wait_until_idle(worker_pid)
    idle = memory_mb(worker_pid)["VmRSS"]
    began = time.perf_counter()
    worker_cpu, server_cpu = cpu_seconds(worker_pid), cpu_seconds(server_pid)
    await fill(reviews, count, referral)
    fill_seconds = time.perf_counter() - began
    # At rest means the records and notifications have caught up too, not just the status.
    await wait_until_idle(worker_pid)
    worker_cpu, server_cpu = cpu_seconds(worker_pid) - worker_cpu, cpu_seconds(server_pid) - server_cpu
    memory = memory_mb(worker_pid)
    listed_began = time.perf_counter()
    listed = await reviews.list(WAITING, limit=count)
    in_process = time.perf_counter() - listed_began
    status = ["list", "--status", Status.AWAITING_CHAIR_DECISION.value]
    variants = [[*status, "--limit", "10000"], status, [*status, "--limit", "10000", "--json"], ["--help"]]
    variants = variants if every_listing else [status]
    cli = [await asyncio.to_thread(_run_cli, variant, environment, cli_repeats) for variant in variants]
    return AtRestFigures(
        reviews=count,
        fill_seconds=fill_seconds,
        fill_per_second=count / fill_seconds,
        fill_worker_cpu_ms_per_review=1000 * worker_cpu / count,
        fill_server_cpu_ms_per_review=1000 * server_cpu / count,
        worker_rss_idle_mb=idle,
        worker_rss_at_rest_mb=memory["VmRSS"],
        worker_rss_peak_mb=memory["VmHWM"],
        server_rss_at_rest_mb=memory_mb(server_pid)["VmRSS"],
        in_process_list_seconds=in_process,
        listed=len(listed),
        cli=cli,
    )
