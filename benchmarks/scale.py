"""The service at scale, as `make run` and deploy/ run it: the real worker and API processes over many open
reviews. One fill serves four phases, in this order:

1. At rest: every review awaits a Chair decision; the worker's memory and `peer-review list` (at_rest.py).
2. Idle decisions: the last-filled reviews (cached) and the first-filled ones (evicted: at least a cache's
   worth of reviews came after them) are approved one at a time and five at once (idle.py).
3. Pages and API under load: simulated people through `peer-review api`, driven by locust (load.py).
4. Recovery: kill -9 of the worker with reviews in flight and decisions waiting, and a replacement
   (recovery.py). Last, because it kills the worker.

Reviews are REST-0 … REST-n-1, filled in that order, alternately in the two OSNs of examples/directory.yaml
that have a Chair, so both Chairs have an inbox.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.at_rest import measure_at_rest
from benchmarks.drivers import standard_referral
from benchmarks.idle import Pending, measure_idle
from benchmarks.load import decisions_needed, measure_load
from benchmarks.options import Options
from benchmarks.processes import ApiProcess, WorkerProcess
from benchmarks.recovery import measure_recovery
from benchmarks.stack import DIRECTORY, Stack
from peer_review.domain.models import Referral
from peer_review.domain.staff_directory import load_directory
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient

PREFIX = "REST"
OSNS = ("north-east", "south-west")
# Each review is about a case of its own, and each customer has this many reviews, so the pages that show a
# customer's earlier reviews show some (one case and one customer for all 10,000 would list hundreds on every page).
CUSTOMER_REVIEWS = 2
# Reviews filled after the evicted ones beyond the cache's size (a sixth more), so none can still be cached.
EVICTION_MARGIN = 6


@dataclass(frozen=True)
class OpenReviews:
    """Which of the filled reviews serves which phase (by index: the order they were filled in)."""

    total: int
    idle_per_set: int
    chairs: dict[str, str]

    @staticmethod
    def osn(index: int) -> str:
        return OSNS[index % len(OSNS)]

    def referral(self, index: int) -> Referral:
        return standard_referral(f"{PREFIX}-{index}", osn=self.osn(index), customer=f"C-{index // CUSTOMER_REVIEWS}")

    def pending(self, index: int) -> Pending:
        return Pending(f"{PREFIX}-{index}", self.chairs[self.osn(index)])

    def evicted(self) -> list[Pending]:
        return [self.pending(i) for i in range(self.idle_per_set)]

    def cached(self) -> list[Pending]:
        return [self.pending(i) for i in range(self.total - self.idle_per_set, self.total)]

    def middle(self) -> list[Pending]:
        return [self.pending(i) for i in range(self.idle_per_set, self.total - self.idle_per_set)]


def _chairs() -> dict[str, str]:
    directory = load_directory(DIRECTORY)
    chairs = {osn: directory.chair_of(osn) for osn in OSNS}
    return {osn: chair.id for osn, chair in chairs.items() if chair is not None}


def open_review_count(options: Options, cache: int) -> int:
    """The reviews to fill: --at-rest, or more if the other phases need them (the evicted set needs a full
    cache's worth filled after it)."""
    idle = options.idle_one + options.idle_five
    needed = 2 * idle + cache + max(cache // EVICTION_MARGIN, 5) + options.load_seed + 2 * options.recovery_decisions
    if options.load_seconds:
        needed += decisions_needed(options.load_users, options.load_seconds)
    return max(options.at_rest, needed)


async def measure_scale(stack: Stack, options: Options, server_pid: int) -> dict[str, Any]:
    settings = stack.settings("scale")
    cache = int(options.scale_cache or options.tuning.get("max_cached_workflows") or Settings().max_cached_workflows)
    environment = {**stack.environment(settings), "PEER_REVIEW_MAX_CACHED_WORKFLOWS": str(cache)}
    reviews = PeerReviewClient(stack.client, settings)
    total = open_review_count(options, cache)
    plan = OpenReviews(total, options.idle_one + options.idle_five, _chairs())
    worker = WorkerProcess(environment, stack.workdir)
    results: dict[str, Any] = {"open_reviews": total, "worker_cache_size": cache}
    seconds: dict[str, float] = {}
    results["phase_seconds"] = seconds
    began = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal began
        seconds[phase] = round(time.perf_counter() - began, 1)
        began = time.perf_counter()

    secret = secrets.token_urlsafe(48)
    api = ApiProcess(
        {**environment, "PEER_REVIEW_JWT_SECRET": secret, "PEER_REVIEW_LOG_LEVEL": "warning"}, stack.workdir
    )
    if options.load_seconds:
        api.spawn()  # it starts up while the worker does, and waits for the load phase
    try:
        await worker.start()
        at_rest = await measure_at_rest(
            reviews,
            settings.records_url,
            environment,
            worker.pid,
            server_pid,
            total,
            plan.referral,
            cli_repeats=1 if options.quick else 3,
            every_listing=not options.quick,
        )
        results["at_rest"] = asdict(at_rest)
        lap("at_rest")
        if plan.idle_per_set:
            idle = await measure_idle(reviews, worker, cache, plan.cached(), plan.evicted(), options.idle_one)
            results["idle"] = idle.as_dict()
            lap("idle")
        middle = plan.middle()
        # Recovery's decisions come off the end of the middle, the load phase's reviews from its start.
        recovery_pool = middle[len(middle) - 2 * options.recovery_decisions :]
        middle = middle[: len(middle) - 2 * options.recovery_decisions]
        if options.load_seconds:
            await api.ready()
            load = await measure_load(
                reviews,
                api.url,
                secret,
                {"server": server_pid, "worker": worker.pid, "api": api.pid},
                stack.workdir,
                options.output,
                users=options.load_users,
                seconds=options.load_seconds,
                spawn_rate=options.load_spawn_rate,
                open_reviews=total,
                decide=middle[options.load_seed :],
                seed=middle[: options.load_seed],
                audit_ids=random.Random(17).sample([f"{PREFIX}-{i}" for i in range(total)], min(total, 500)),
            )
            await api.stop()
            results["load"] = asdict(load)
            lap("load")
        if options.recovery_reviews:
            store = RecordsStore.from_url(settings.records_url)
            try:
                recovery = await measure_recovery(
                    reviews,
                    worker,
                    store,
                    [
                        standard_referral(f"RECOVER-{i}", osn=OpenReviews.osn(i))
                        for i in range(options.recovery_reviews)
                    ],
                    recovery_pool[: options.recovery_decisions],
                    recovery_pool[options.recovery_decisions :],
                    burst_seconds=options.recovery_burst_seconds,
                    patience=options.recovery_patience,
                )
            finally:
                await store.close()
            results["recovery"] = recovery.as_dict()
            lap("recovery")
    finally:
        await api.stop()
        await worker.stop()
    return results
