"""Idle-review decisions: a Chair approves reviews that have sat waiting, as happens hours after triage.

Cached: the review is still in the worker's workflow cache (a status query just before makes sure it is among
the most recently used). Evicted: more reviews than the cache holds were filled after it and nothing touched
it since, so the worker fetches its history and replays it before it can apply the decision. Each set is
approved one at a time (with a pause, so each decision meets an idle worker, not the previous decision's side
effects) and five at once. The worker's own counters (workflow-cache hits and misses, from its /metrics)
say which case each set really was.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.processes import WorkerProcess
from benchmarks.stats import Latency
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision
from peer_review.temporal.client import PeerReviewClient

AT_ONCE = 5
# After each decision (or group of five): its notifications and record batch take a few tens of milliseconds.
PAUSE_SECONDS = 0.3
# A hit is a workflow task for a review in the cache; a miss, one that first fetched and replayed its history.
CACHE_COUNTERS = ("temporal_sticky_cache_hit", "temporal_sticky_cache_miss")


@dataclass(frozen=True)
class Pending:
    """An open review awaiting a Chair decision, and the Chair who decides it."""

    referral_id: str
    chair: str


@dataclass
class IdleSet:
    cache: str  # "cached" or "evicted"
    at_once: int
    reviews: int
    latency: dict[str, float]
    errors: list[str] = field(default_factory=list)
    # Deltas of the worker's counters over the set: workflow tasks that found the review cached, or not.
    worker_counters: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.cache}, {'one at a time' if self.at_once == 1 else f'{self.at_once} at once'}"


@dataclass
class IdleFigures:
    worker_cache_size: int
    sets: list[IdleSet]

    def as_dict(self) -> dict[str, Any]:
        return {
            "worker_cache_size": self.worker_cache_size,
            "sets": [{**asdict(s), "label": s.label} for s in self.sets],
        }


async def _approve(reviews: PeerReviewClient, review: Pending, samples: list[float], errors: list[str]) -> None:
    decision = Decision(actor=review.chair, rationale="Approved: the referral meets the criteria.")
    began = time.perf_counter()
    try:
        await reviews.act(review.referral_id, ActionName.APPROVE, decision)
    except Exception as error:  # counted and shown, never hidden
        errors.append(f"{review.referral_id}: {type(error).__name__}: {error}")
        return
    samples.append(time.perf_counter() - began)


async def _decide(
    reviews: PeerReviewClient, worker: WorkerProcess, cache: str, at_once: int, chosen: Sequence[Pending]
) -> IdleSet:
    before = await worker.counters(*CACHE_COUNTERS)
    samples: list[float] = []
    errors: list[str] = []
    for start in range(0, len(chosen), at_once):
        group = chosen[start : start + at_once]
        await asyncio.gather(*(_approve(reviews, review, samples, errors) for review in group))
        await asyncio.sleep(PAUSE_SECONDS)
    after = await worker.counters(*CACHE_COUNTERS)
    deltas = {name.removeprefix("temporal_"): after[name] - before[name] for name in CACHE_COUNTERS}
    return IdleSet(cache, at_once, len(chosen), asdict(Latency.of(samples)), errors, deltas)


async def measure_idle(
    reviews: PeerReviewClient,
    worker: WorkerProcess,
    cache_size: int,
    cached: Sequence[Pending],
    evicted: Sequence[Pending],
    one_at_a_time: int,
) -> IdleFigures:
    """Approve `cached` then `evicted` reviews: the first `one_at_a_time` of each singly, the rest five at once.

    Cached ones first: deciding an evicted review brings it back into the cache and pushes another out.
    """
    for review in cached:
        await reviews.status(review.referral_id)
    sets = []
    for cache, chosen in (("cached", cached), ("evicted", evicted)):
        sets.append(await _decide(reviews, worker, cache, 1, chosen[:one_at_a_time]))
        sets.append(await _decide(reviews, worker, cache, AT_ONCE, chosen[one_at_a_time:]))
    return IdleFigures(cache_size, sets)
