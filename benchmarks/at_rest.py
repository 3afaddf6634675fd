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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.procfs import cpu_seconds, memory_mb, wait_until_idle
from benchmarks.stack import ROOT
from peer_review.domain.models import Referral, Status
from peer_review.records.schema import referrals
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import ListFilter, PeerReviewClient

BIN = Path(sys.executable).parent
WAITING = ListFilter(status=Status.AWAITING_CHAIR_DECISION)
# An auditor (examples/directory.yaml), who may read every review: the benchmark's CLI reads run as them.
AUDITOR = "S500"
# Started but not yet at rest: enough to keep the worker busy, few enough that sticky workflow tasks do not
# time out in a backlog (which would add replays the service never sees in normal running).
BACKLOG = 400
START_LANES = 20
SETTLE_PATIENCE_SECONDS = 1800.0


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
    settle_seconds: float
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


async def fill(
    count: int,
    start: Callable[[int], Awaitable[object]],
    settled: Callable[[], Awaitable[int]],
    per_start: int = 1,
) -> None:
    """Run `start(0)` … `start(count - 1)` in index order, each bringing `per_start` workflows to rest, holding
    the backlog of those started and not yet at rest under BACKLOG; `settled` counts the workflows at rest so far."""
    # One slot per start not yet at rest; the watcher hands slots back as its workflows settle.
    slots = asyncio.Semaphore(max(1, BACKLOG // per_start))
    next_index = iter(range(count))

    async def lane() -> None:
        for index in next_index:
            await slots.acquire()
            await start(index)

    async def watch() -> None:
        at_rest = 0
        while at_rest < count:
            await asyncio.sleep(0.25)
            now = await settled() // per_start
            for _ in range(now - at_rest):
                slots.release()
            at_rest = max(now, at_rest)

    await asyncio.gather(watch(), *(lane() for _ in range(START_LANES)))


@dataclass(frozen=True)
class Weighed:
    """What bringing workflows to rest cost the worker and the server, and the worker's memory before and after."""

    seconds: float
    # From the last workflow at rest until the worker went idle: side effects still queued when the fill ended.
    settle_seconds: float
    worker_cpu_seconds: float
    server_cpu_seconds: float
    worker_rss_idle_mb: float
    worker_rss_at_rest_mb: float
    worker_rss_peak_mb: float
    server_rss_at_rest_mb: float

    def figures(self, count: int, unit: str) -> dict[str, float]:
        """The fill's rate, its CPU per `unit` brought to rest and the memory, named as the tables read them."""
        return {
            "fill_seconds": self.seconds,
            "fill_per_second": count / self.seconds,
            "settle_seconds": self.settle_seconds,
            f"fill_worker_cpu_ms_per_{unit}": 1000 * self.worker_cpu_seconds / count,
            f"fill_server_cpu_ms_per_{unit}": 1000 * self.server_cpu_seconds / count,
            "worker_rss_idle_mb": self.worker_rss_idle_mb,
            "worker_rss_at_rest_mb": self.worker_rss_at_rest_mb,
            "worker_rss_peak_mb": self.worker_rss_peak_mb,
            "server_rss_at_rest_mb": self.server_rss_at_rest_mb,
        }


async def weigh(worker_pid: int, server_pid: int, filling: Callable[[], Awaitable[None]]) -> Weighed:
    """The idle worker's memory, then `filling()` and the worker's memory once it is idle again."""
    await wait_until_idle(worker_pid)
    idle = memory_mb(worker_pid)["VmRSS"]
    began = time.perf_counter()
    worker_cpu, server_cpu = cpu_seconds(worker_pid), cpu_seconds(server_pid)
    await filling()
    seconds = time.perf_counter() - began
    # At rest means the records and notifications have caught up too, not just the status; a backlog of them
    # left by the fill would otherwise be measured as the idle service's own work by the phases after.
    settle_seconds = await wait_until_idle(worker_pid, patience=SETTLE_PATIENCE_SECONDS)
    memory = memory_mb(worker_pid)
    return Weighed(
        seconds=seconds,
        settle_seconds=settle_seconds,
        worker_cpu_seconds=cpu_seconds(worker_pid) - worker_cpu,
        server_cpu_seconds=cpu_seconds(server_pid) - server_cpu,
        worker_rss_idle_mb=idle,
        worker_rss_at_rest_mb=memory["VmRSS"],
        worker_rss_peak_mb=memory["VmHWM"],
        server_rss_at_rest_mb=memory_mb(server_pid)["VmRSS"],
    )


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


async def _recorded_waiting(store: RecordsStore) -> int:
    query = (
        select(func.count()).select_from(referrals).where(referrals.c.status == Status.AWAITING_CHAIR_DECISION.value)
    )
    async with store.engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def measure_at_rest(
    reviews: PeerReviewClient,
    records_url: str,
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
    client = reviews.client
    store = RecordsStore.from_url(records_url)
    already = (await client.count_workflows(WAITING.query())).count, await _recorded_waiting(store)

    async def waiting() -> int:
        """Reviews at rest: awaiting a Chair in Temporal and in the record. Pacing the fill by the record too
        keeps its writes from falling ever further behind the statuses, a backlog the service never sees."""
        listed = (await client.count_workflows(WAITING.query())).count - already[0]
        return min(listed, await _recorded_waiting(store) - already[1])

    async def refer(index: int) -> None:
        await reviews.refer(referral(index))

    try:
        weighed = await weigh(worker_pid, server_pid, lambda: fill(count, refer, waiting))
    finally:
        await store.close()
    listed_began = time.perf_counter()
    listed = await reviews.list(WAITING, limit=count)
    in_process = time.perf_counter() - listed_began
    status = ["list", "--as", AUDITOR, "--status", Status.AWAITING_CHAIR_DECISION.value]
    variants = [[*status, "--limit", "10000"], status, [*status, "--limit", "10000", "--json"], ["--help"]]
    variants = variants if every_listing else [status]
    cli = [await asyncio.to_thread(_run_cli, variant, environment, cli_repeats) for variant in variants]
    return AtRestFigures(
        reviews=count,
        **weighed.figures(count, "review"),
        in_process_list_seconds=in_process,
        listed=len(listed),
        cli=cli,
    )
