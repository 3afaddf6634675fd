"""Driving many reviews at once through the typed client, and checking what they left behind (faults, CLI)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import (
    ActionPayload,
    Decision,
    FindingsSubmission,
    Outcome,
    Referral,
    ReviewerAssignment,
    StatusView,
)
from peer_review.records.schema import notifications
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import PeerReviewClient, workflow_id
from tests.helpers.factories import findings, referral
from tests.helpers.temporal import STATUS_WAIT, chain_keys, triaged

T = TypeVar("T")
R = TypeVar("R")
Step = tuple[ActionName, ActionPayload]

CONCURRENCY = 16  # requests in flight at once: enough to keep every activity slot busy, few enough for 2 cores


async def each(items: Iterable[T], work: Callable[[T], Awaitable[R]], limit: int = CONCURRENCY) -> list[R]:
    """`work` on every item, at most `limit` at a time, results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> R:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


def referrals(count: int) -> list[Referral]:
    """A mix of both entry paths: every fourth is mandatory (suicide), the rest need the Chair's decision."""
    return [referral("suicide" if i % 4 == 0 else "complex-issue") for i in range(count)]


def is_mandatory(r: Referral) -> bool:
    return any(reason.value == "suicide_or_alleged_suicide" for reason in r.reasons)


def full_path(r: Referral) -> list[Step]:
    """Every human step from triage to a completed review (a mandatory review has no Chair decision)."""
    steps: list[Step] = [] if is_mandatory(r) else [(ActionName.APPROVE, Decision(actor="S100", rationale="Go"))]
    return [
        *steps,
        (ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor="S100", reviewer="S400")),
        (ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor="S400", findings=findings(contentious=False))),
        (ActionName.SIGN_OFF, Decision(actor="S100")),
    ]


def quick_path(r: Referral) -> list[Step]:
    """The fewest steps to close a review: the Chair declines; a mandatory review cannot be declined."""
    if is_mandatory(r):
        return full_path(r)
    return [(ActionName.DECLINE, Decision(actor="S100", rationale="Handled at district level"))]


def expected_outcome(r: Referral) -> Outcome:
    return Outcome.COMPLETED if is_mandatory(r) else Outcome.DECLINED


async def refer_all(reviews: PeerReviewClient, batch: Sequence[Referral]) -> None:
    started = await each(batch, reviews.refer)
    assert [s.already_started for s in started] == [False] * len(batch)
    await each(batch, lambda r: triaged(reviews, r.referral_id))


async def take_steps(reviews: PeerReviewClient, r: Referral, steps: Sequence[Step]) -> StatusView | None:
    view = None
    for action, payload in steps:
        view = await reviews.act(r.referral_id, action, payload)
    return view


@dataclass(frozen=True)
class Taken:
    """The last status after some steps, and how long each step took, in seconds."""

    view: StatusView | None
    seconds: list[float]


# The fault scenarios keep a side effect down until every decision is answered, so a decision that waited on it would
# never be answered: this bound only turns that hang into a failure, and is well above what a busy machine adds to a
# decision (no performance target here; `make bench` measures latency).
DECISION_LIMIT = 60.0


async def take_steps_within(reviews: PeerReviewClient, r: Referral, steps: Sequence[Step]) -> Taken:
    """Each step must be answered within DECISION_LIMIT seconds, timed alone."""
    view, seconds = None, []
    for action, payload in steps:
        began = time.monotonic()
        try:
            view = await asyncio.wait_for(reviews.act(r.referral_id, action, payload), DECISION_LIMIT)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            # Cancelled by the bound, the client raises its own error rather than TimeoutError.
            raise AssertionError(f"{r.referral_id}: {action} was not answered within {DECISION_LIMIT:g}s") from None
        seconds.append(time.monotonic() - began)
    return Taken(view, seconds)


async def finished(reviews: PeerReviewClient, referral_id: str, within: float = STATUS_WAIT) -> StatusView:
    """The workflow's result: it returns only once every record and notification has been flushed."""
    handle = reviews.client.get_workflow_handle(workflow_id(referral_id), result_type=StatusView)
    view: StatusView = await asyncio.wait_for(handle.result(), within)
    return view


async def assert_records_match(reviews: PeerReviewClient, store: RecordsStore, referral_id: str) -> int:
    """One database row per audit event, in order, none missing, none twice, and the hash chain intact."""
    trail = await reviews.audit_trail(referral_id)
    record = await store.audit_record(referral_id)
    assert record is not None, f"no records for {referral_id}"
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    assert [row.event for row in record.events] == trail, f"records of {referral_id} differ from its audit trail"
    check = record.verify(chain_keys())
    assert check.valid, f"{referral_id}: hash chain broken at {check.broken_at_seq}: {check.problem}"
    return len(trail)


async def assert_all_recorded(reviews: PeerReviewClient, store: RecordsStore, batch: Sequence[Referral]) -> int:
    """Checks every review; returns how many audit events were compared."""
    counts = await each(batch, lambda r: assert_records_match(reviews, store, r.referral_id), limit=8)
    return sum(counts)


async def pending_activities(reviews: PeerReviewClient, referral_id: str) -> int:
    description = await reviews.client.get_workflow_handle(workflow_id(referral_id)).describe()
    return len(description.raw_description.pending_activities)


async def settle(reviews: PeerReviewClient, store: RecordsStore, referral_id: str, within: float = STATUS_WAIT) -> None:
    """Wait until the review has no activity pending and its records have caught up with its audit trail."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        record = await store.audit_record(referral_id)
        recorded = len(record.events) if record else 0
        if not await pending_activities(reviews, referral_id) and recorded == len(
            await reviews.audit_trail(referral_id)
        ):
            return
        assert asyncio.get_running_loop().time() < deadline, f"{referral_id} never settled"
        await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Attempt:
    activity: str
    number: int
    after_timeout: bool  # the attempt before it ran out its start-to-close timeout


async def activity_attempts(reviews: PeerReviewClient, referral_id: str) -> list[Attempt]:
    """The last attempt of every activity that ran, from the history: a retry shows as number > 1."""
    history = await reviews.client.get_workflow_handle(workflow_id(referral_id)).fetch_history()
    scheduled = {
        event.event_id: event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    }
    return [
        Attempt(
            scheduled[started.scheduled_event_id],
            started.attempt,
            started.last_failure.HasField("timeout_failure_info"),
        )
        for started in (
            event.activity_task_started_event_attributes
            for event in history.events
            if event.HasField("activity_task_started_event_attributes")
        )
    ]


async def retried(reviews: PeerReviewClient, batch: Sequence[Referral]) -> set[str]:
    """The activity types that needed more than one attempt in any of these reviews."""
    attempts = await each(batch, lambda r: activity_attempts(reviews, r.referral_id))
    return {a.activity for per_review in attempts for a in per_review if a.number > 1}


async def cut_short(reviews: PeerReviewClient, batch: Sequence[Referral]) -> set[str]:
    """The activity types retried because an attempt failed or was cancelled mid-run.

    Retries after a start-to-close timeout are left out: Temporal can hand a task to a worker's poll at the very
    moment that worker stops polling, and the task is lost in transit until its timeout (temporalio/sdk-rust#1080);
    that attempt never ran, so nothing was cut short.
    """
    attempts = await each(batch, lambda r: activity_attempts(reviews, r.referral_id))
    return {a.activity for per_review in attempts for a in per_review if a.number > 1 and not a.after_timeout}


async def workflow_task_failures(reviews: PeerReviewClient, referral_id: str) -> list[str]:
    history = await reviews.client.get_workflow_handle(workflow_id(referral_id)).fetch_history()
    return [
        event.workflow_task_failed_event_attributes.failure.message
        for event in history.events
        if event.HasField("workflow_task_failed_event_attributes")
    ]


async def outbox(store: RecordsStore, batch: Sequence[Referral]) -> dict[str, str]:
    """Idempotency key → delivery status of every notification of these reviews."""
    ids = [r.referral_id for r in batch]
    async with store.engine.connect() as connection:
        rows = await connection.execute(
            select(notifications.c.idempotency_key, notifications.c.status).where(notifications.c.referral_id.in_(ids))
        )
        return {row.idempotency_key: row.status for row in rows}
