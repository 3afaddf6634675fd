"""Recovery: kill -9 the worker with reviews in flight and decisions waiting, start a replacement, and time
(a) until every waiting decision is applied and (b) until every side effect in flight (records, notifications)
has finished.

In flight: new referrals being triaged and approvals just sent, so workflow tasks and activities are running
on the worker when it dies. Waiting: approvals sent while no worker runs. Done, for one review, means Temporal
holds no pending activity for it and the records database holds every event of its audit trail (the trail
includes each notification's outcome, so a notification still to be sent keeps the review "not done").

What bounds (b) is the side effects' timeouts: an activity that had started on the killed worker is only
retried once its start-to-close timeout has passed, since nothing else tells the server that the worker died.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.service import RPCError

from benchmarks.idle import Pending
from benchmarks.processes import WorkerProcess
from benchmarks.stats import Latency
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, Referral
from peer_review.records.schema import referrals
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import PeerReviewClient, workflow_id

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class SinceKill:
    """When something happened to each review watched, in milliseconds (Latency figures), counted two ways."""

    after_kill_ms: dict[str, float]
    after_ready_ms: dict[str, float]

    @classmethod
    def of(cls, moments: Sequence[float], killed: float, ready: float) -> SinceKill:
        return cls(_ms([at - killed for at in moments]), _ms([max(at - ready, 0.0) for at in moments]))


@dataclass
class RecoveryFigures:
    referred_in_flight: int
    approved_before_kill: int
    approved_while_down: int
    burst_seconds: float
    # Activities that had started on the killed worker and were still running when it died.
    activities_lost: int
    replacement_ready_seconds: float
    # Decisions that had not been applied when the worker died (sent before and unanswered, or sent after).
    decisions_waiting: int
    # Of those, not applied within the patience (cancelled by the benchmark).
    decisions_unanswered: int
    decisions_applied: SinceKill
    side_effects_done: SinceKill
    reviews_watched: int
    reviews_done: int
    patience_seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.reviews_done == self.reviews_watched

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "finished": self.finished}


def _ms(seconds: Sequence[float]) -> dict[str, float]:
    return asdict(Latency.of(seconds))


async def _lost_activities(reviews: PeerReviewClient, referral_ids: Sequence[str]) -> int:
    started = 0
    for referral_id in referral_ids:
        with contextlib.suppress(RPCError):
            description = await reviews.client.get_workflow_handle(workflow_id(referral_id)).describe()
            started += sum(
                1
                for pending in description.raw_description.pending_activities
                if pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            )
    return started


async def _recorded(store: RecordsStore, referral_ids: Sequence[str]) -> dict[str, int]:
    query = select(referrals.c.referral_id, referrals.c.last_seq).where(referrals.c.referral_id.in_(referral_ids))
    async with store.engine.connect() as connection:
        return {row.referral_id: row.last_seq for row in await connection.execute(query)}


async def _done(reviews: PeerReviewClient, store: RecordsStore, referral_ids: Sequence[str]) -> set[str]:
    """The reviews with no pending activity whose every audit event is in the records database."""
    quiet = []
    for referral_id in referral_ids:
        with contextlib.suppress(RPCError):
            description = await reviews.client.get_workflow_handle(workflow_id(referral_id)).describe()
            if not description.raw_description.pending_activities:
                quiet.append(referral_id)
    recorded = await _recorded(store, quiet) if quiet else {}
    done = set()
    for referral_id in quiet:
        with contextlib.suppress(RPCError):
            if recorded.get(referral_id) == len(await reviews.audit_trail(referral_id)):
                done.add(referral_id)
    return done


@dataclass
class _Timed:
    """Calls run as tasks, with when each one returned (perf_counter) and the errors of those that failed."""

    finished: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    tasks: list[asyncio.Future[None]] = field(default_factory=list)

    def start(self, key: str, call: Awaitable[Any]) -> None:
        self.tasks.append(asyncio.ensure_future(self._run(key, call)))

    async def _run(self, key: str, call: Awaitable[Any]) -> None:
        try:
            await call
        except Exception as error:  # counted and shown, never hidden
            self.errors.append(f"{key}: {type(error).__name__}: {error}")
            return
        self.finished[key] = time.perf_counter()

    async def wait(self, within: float) -> int:
        """Wait at most `within` seconds; cancel and count the calls still running."""
        if not self.tasks:
            return 0
        _, pending = await asyncio.wait(self.tasks, timeout=max(within, 0.1))
        for task in pending:
            task.cancel()
        return len(pending)


def _approve(reviews: PeerReviewClient, review: Pending) -> Awaitable[Any]:
    decision = Decision(actor=review.chair, rationale="Approved: the referral meets the criteria.")
    return reviews.act(review.referral_id, ActionName.APPROVE, decision)


async def measure_recovery(
    reviews: PeerReviewClient,
    worker: WorkerProcess,
    store: RecordsStore,
    new: Sequence[Referral],
    before: Sequence[Pending],
    while_down: Sequence[Pending],
    *,
    burst_seconds: float,
    patience: float,
) -> RecoveryFigures:
    """Refer `new` and approve `before`, kill -9 the worker `burst_seconds` later, approve `while_down`, start a
    replacement, then wait (at most `patience` seconds) for the decisions and the side effects."""
    began = time.perf_counter()
    decisions = _Timed()
    for referral in new:
        await reviews.refer(referral)
    for review in before:
        decisions.start(review.referral_id, _approve(reviews, review))
    await asyncio.sleep(max(burst_seconds - (time.perf_counter() - began), 0.0))
    worker.kill()
    killed = time.perf_counter()
    answered_before_kill = len(decisions.finished)
    watched = [r.referral_id for r in new] + [r.referral_id for r in (*before, *while_down)]
    lost = await _lost_activities(reviews, watched)
    for review in while_down:
        decisions.start(review.referral_id, _approve(reviews, review))
    await worker.start()
    ready = time.perf_counter()
    unanswered = await decisions.wait(patience - (ready - killed))
    waiting = [at for at in decisions.finished.values() if at > killed]
    done_at: dict[str, float] = {}
    remaining = list(watched)
    while remaining and time.perf_counter() - killed < patience:
        for referral_id in await _done(reviews, store, remaining):
            done_at[referral_id] = time.perf_counter()
        remaining = [r for r in remaining if r not in done_at]
        if remaining:
            await asyncio.sleep(POLL_SECONDS)
    return RecoveryFigures(
        referred_in_flight=len(new),
        approved_before_kill=len(before),
        approved_while_down=len(while_down),
        burst_seconds=killed - began,
        activities_lost=lost,
        replacement_ready_seconds=ready - killed,
        decisions_waiting=len(before) + len(while_down) - answered_before_kill,
        decisions_unanswered=unanswered,
        decisions_applied=SinceKill.of(waiting, killed, ready),
        side_effects_done=SinceKill.of(list(done_at.values()), killed, ready),
        reviews_watched=len(watched),
        reviews_done=len(done_at),
        patience_seconds=patience,
        errors=decisions.errors,
    )
