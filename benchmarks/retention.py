"""Retention at scale: many closed reviews written straight into the records database (SQLite), then
`peer-review audit --verify-all` (the real command, timed from outside) and a retention run on a real worker process,
with Chair decisions timed while the worker is idle and again while the run disposes of records.

Targets (issue 16): verify-all ≤ 60 s and a retention run ≤ 5 min over 100,000 reviews; decision p99 during the run
within 1.5× of the idle figure.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.at_rest import AUDITOR
from benchmarks.closed_reviews import EXAMPLE, write_closed_reviews
from benchmarks.processes import WorkerProcess
from benchmarks.stack import ROOT, Stack
from benchmarks.stats import Latency
from peer_review.domain.audit_chain import ChainKey
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, Referral, Status
from peer_review.domain.retention import RetentionRequest
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.key_rings import load_chain_ring
from peer_review.temporal.retention_schedule import run_retention

BIN = Path(sys.executable).parent
CHAIR = "S100"  # the Chair of the example referral's OSN


@dataclass(frozen=True)
class DecisionsBesideRun:
    """Decision latency (Latency figures) on the idle service, and while the retention run disposes of records."""

    idle: dict[str, float]
    during_run: dict[str, float]
    # How many of the "during" decisions were made before the run had finished.
    inside_run: int


@dataclass(frozen=True)
class RunFigures:
    """One retention run over the seeded records: how long it took and what it disposed of."""

    seconds: float
    disposed: int
    batches: int


@dataclass
class RetentionFigures:
    reviews: int
    seed_seconds: float
    # `audit --verify-all` over every seeded chain, and whether it found them all intact.
    verify_all_seconds: float
    verify_all_valid: bool
    run: RunFigures
    decisions: DecisionsBesideRun


async def _open_reviews(reviews: PeerReviewClient, count: int) -> list[str]:
    template = json.loads(EXAMPLE.read_text())
    ids = [f"RB-{uuid.uuid4().hex[:10]}" for _ in range(count)]
    for ref in ids:
        await reviews.refer(Referral.model_validate({**template, "referral_id": ref, "case_reference": f"C-{ref}"}))
    for ref in ids:
        for _ in range(600):
            if (await reviews.status(ref)).status is Status.AWAITING_CHAIR_DECISION:
                break
            await asyncio.sleep(0.1)
    return ids


async def _approve(reviews: PeerReviewClient, ids: list[str]) -> list[float]:
    seconds = []
    for ref in ids:
        began = time.perf_counter()
        await reviews.act(ref, ActionName.APPROVE, Decision(actor=CHAIR, rationale="Benchmark"))
        seconds.append(time.perf_counter() - began)
        await asyncio.sleep(0.2)  # each decision meets a worker free of the previous one's side effects
    return seconds


def _verify_all(environment: dict[str, str]) -> tuple[float, bool]:
    began = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "peer-review"), "audit", "--verify-all", "--as", AUDITOR, "--json"],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    seconds = time.perf_counter() - began
    return seconds, done.returncode == 0 and bool(json.loads(done.stdout or "{}").get("valid"))


async def measure_retention(stack: Stack, count: int, decisions: int) -> RetentionFigures:
    settings = stack.settings("retention")
    environment = stack.environment(settings)
    ring = load_chain_ring(settings)
    store = RecordsStore.from_url(settings.records_url)
    await store.create_schema()
    began = time.perf_counter()
    # Closed ten years ago: past the default retention period of seven years.
    closed_at = datetime.now(UTC) - timedelta(days=3660)
    await write_closed_reviews(store, count, closed_at=closed_at, key=ChainKey(ring.newest, ring.keys[ring.newest]))
    seed_seconds = time.perf_counter() - began
    await store.close()
    verify_seconds, valid = await asyncio.to_thread(_verify_all, environment)

    worker = WorkerProcess(environment, stack.workdir)
    await worker.start()
    try:
        reviews = PeerReviewClient(stack.client, settings)
        pending = await _open_reviews(reviews, 2 * decisions)
        idle = await _approve(reviews, pending[:decisions])
        began = time.perf_counter()
        run = asyncio.ensure_future(
            run_retention(stack.client, settings, RetentionRequest(), f"bench-retention-{uuid.uuid4().hex[:8]}")
        )
        await asyncio.sleep(0.5)  # the run is under way
        during = await _approve(reviews, pending[decisions:])
        inside = 0 if run.done() else decisions
        result = await run
        run_seconds = time.perf_counter() - began
    finally:
        await worker.stop()
    return RetentionFigures(
        reviews=count,
        seed_seconds=round(seed_seconds, 1),
        verify_all_seconds=round(verify_seconds, 2),
        verify_all_valid=valid,
        run=RunFigures(round(run_seconds, 2), result.reviews, result.batches),
        decisions=DecisionsBesideRun(asdict(Latency.of(idle)), asdict(Latency.of(during)), inside),
    )
