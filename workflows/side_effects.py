"""What PeerReviewWorkflow asks of the world outside: directory look-ups, records and notifications.

Runs inside the workflow, so it follows the workflow's rules: no I/O library, activities called by name with
explicit timeouts and retry policies. `look_up` is awaited because the review cannot go on without the answer.
`RecordKeeper` holds the review's audit trail and writes it to the records database, each message in the same
transaction as the record of the move that sent it (a transactional outbox); with a mailer, a delivery then sends
what was queued. Both run as background tasks, so they never hold up a decision, and the workflow waits for them
only before it closes.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.lifecycle import REFUSALS_RECORDED_PER_DAY, refusal_action
    from peer_review.domain.models import (
        QUEUED,
        AuditEvent,
        BatchWritten,
        Contract,
        Findings,
        NotificationOutcome,
        NotificationOutcomes,
        NotificationRequest,
        Notifications,
        RecommendationStatus,
        RecordBatch,
        ReviewContacts,
        ReviewInput,
        Status,
        StatusView,
        message_detail,
        settled,
    )
    from peer_review.domain.notices import Step
    from peer_review.temporal.metrics import Metric
    from peer_review.temporal.names import NOTIFICATIONS_QUEUE_SUFFIX, NOTIFY, RECORD_BATCH, RECORDS_QUEUE_SUFFIX

from workflows.activity_policy import ActivityPolicy

# The actor of what the workflow does by itself: triage, deadlines, notification outcomes.
SYSTEM = "system"
# Errors no retry can mend (a malformed payload; a record the database refuses as it stands): fail at once.
NEVER_SUCCEEDS = ["ValidationError", "TypeError", "RecordRejected"]
LOOKUP_TIMEOUT = timedelta(seconds=10)
LOOKUP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NEVER_SUCCEEDS,
)
LOOKUP = ActivityPolicy(LOOKUP_TIMEOUT, LOOKUP_RETRY)
# A person waits on a look-up made inside an update, and deadlines wait on a refresh of who may act: past this,
# give up (an update is refused plainly; a refresh keeps the contacts it had) rather than hang.
LOOKUP_DEADLINE = timedelta(seconds=30)
DIRECTORY_UNAVAILABLE = "the staff directory is unavailable, try again"
# Enough events per write to keep record-keeping to a handful of activities per review.
RECORD_BATCH_SIZE = 50
# The records database is the system of record: keep trying until it answers, however long that takes. One attempt
# is a single transaction of one batch (milliseconds); past SQLite's busy timeout it fails and is retried, and the
# attempt of a worker that died is retried elsewhere after this long.
RECORD_TIMEOUT = timedelta(seconds=10)
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
    non_retryable_error_types=NEVER_SUCCEEDS,
)
RECORD = ActivityPolicy(RECORD_TIMEOUT, RECORD_RETRY)
# After the database refused a batch for good (alert PeerReviewRecordsStuck), try it again this much later: an
# operator may have mended the schema or the data meanwhile. The review goes on; it closes only once recorded.
STUCK_RECORD_RETRY = timedelta(hours=1)
# One attempt is a directory read, one outbox write and at most one SMTP send per message the record queued. A send
# has no fixed length (the SMTP timeout applies to each command), so the activity beats while it sends and a worker
# that died is noticed by the missing beat (NOTIFY_HEARTBEAT) rather than by the start-to-close timeout; either way
# the attempt is retried elsewhere. A mail server that is down is retried with back-off until the policy's give-up
# period has passed.
NOTIFY_TIMEOUT = timedelta(seconds=60)
NOTIFY_HEARTBEAT = timedelta(seconds=5)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=30)
)
NOTIFICATION = ActivityPolicy(NOTIFY_TIMEOUT, NOTIFY_RETRY, heartbeat=NOTIFY_HEARTBEAT)


T = TypeVar("T")
# One write of a record-keeping loop (a review's RecordBatch, a recommendation's RecommendationBatch).
B = TypeVar("B", bound=Contract)
AnyStatus = Status | RecommendationStatus


async def look_up(activity: str, arg: object, result_type: type[T], *, deadline: timedelta | None = None) -> T:
    """A directory read: quick, safe to retry, and needed before the workflow can go on. With `deadline` it gives
    up after that long in all, with a plain "try again" (type Unavailable) for whoever waits."""
    try:
        return await LOOKUP.run(activity, arg, result_type, deadline=deadline)
    except ActivityError:
        if deadline is None:
            raise
        raise ApplicationError(DIRECTORY_UNAVAILABLE, type="Unavailable", non_retryable=True) from None


def count(name: Metric, **labels: str) -> None:
    """Add one to a workflow metric (not emitted again on replay)."""
    workflow.metric_meter().create_counter(name).add(1, labels)


def queue(suffix: str) -> str:
    """The task queue of a side effect: the review's own queue plus the side effect's suffix."""
    return workflow.info().task_queue + suffix


class RecordKeeper(abc.ABC, Generic[B]):
    """Keeps one workflow's audit trail and writes it to the records database, in order, once each, in batches,
    with the outbox rows of its messages; hands what waits for the mailer to a delivery. `record_id` is what the
    record and the messages are filed under (a referral id, or a recommendation id); `write_activity` writes one
    batch made by `_next_batch`."""

    def __init__(self, record_id: str, *, give_up_hours: float, write_activity: str) -> None:
        self.events: list[AuditEvent] = []
        self._record_id = record_id
        self._notification_give_up = timedelta(hours=give_up_hours)
        self._write_activity = write_activity
        self._recorded = 0
        self._unrecorded_messages: list[NotificationRequest] = []  # in order; their events are not recorded yet
        self._deliveries = 0  # deliveries by the mailer (activities) under way
        self._finishing = False
        self._holding = False
        self._loop: asyncio.Task[None] | None = None
        # Refusals of proven people recorded today (UTC): (day, count).
        self._refusals_recorded: tuple[str, int] = ("", 0)

    @abc.abstractmethod
    def _next_batch(self, events: list[AuditEvent], messages: list[NotificationRequest]) -> B:
        """The batch that writes `events` (the next ones not yet recorded) and the outbox rows of `messages` (theirs)
        with the current state."""

    def _batch_written(self, batch: B) -> None:
        """Called once `batch` is in the records database."""

    def start(self) -> None:
        self._loop = asyncio.create_task(self._record_continuously())

    def hold(self) -> None:
        """Write nothing more until `finish`: the workflow is closing, and what it still does before then (the
        review's recommendation starts) adds events that go in the same last batch as the closing move, one record
        write rather than two."""
        self._holding = True

    async def finish(self) -> None:
        """Wait for the last record to be written, with the outcome of every message the mailer had in hand."""
        assert self._loop is not None
        self._finishing = True
        await self._loop

    def audit(
        self,
        actor: str,
        action: str,
        from_status: AnyStatus | None,
        to_status: AnyStatus | None,
        detail: str | None,
        proven_by: str | None = None,
    ) -> None:
        """`proven_by` says how the acting person was proven (peer_review.domain.proofs.Proof.attribution)."""
        self.events.append(
            AuditEvent(
                seq=len(self.events) + 1,
                at=workflow.now(),
                actor=actor,
                action=action,
                from_status=from_status,
                to_status=to_status,
                detail=detail,
                proven_by=proven_by,
            )
        )

    def note(self, action: str, detail: str) -> None:
        """Audit something the workflow did or found by itself, outside any change of status."""
        self.audit(SYSTEM, action, None, None, detail)

    def refusal(
        self, actor: str, action: StrEnum, kind: str, reason: str, status: AnyStatus, proven_by: str | None
    ) -> None:
        """Count and audit an action a proven person was refused, under the enum's name; beyond the day's allowance
        (REFUSALS_RECORDED_PER_DAY) it is only counted, so refusals cannot grow a record without limit."""
        count(Metric.REJECTED_ACTIONS, action=action.value, kind=kind)
        if not self.refusal_room():
            count(Metric.REFUSALS_NOT_RECORDED, action=action.value)
            return
        today = workflow.now().date().isoformat()
        day, recorded = self._refusals_recorded
        self._refusals_recorded = (today, (recorded if day == today else 0) + 1)
        self.audit(actor, refusal_action(action), status, status, reason, proven_by)

    def refusal_room(self) -> bool:
        """Whether today's allowance of recorded refusals has room for another."""
        day, recorded = self._refusals_recorded
        return day != workflow.now().date().isoformat() or recorded < REFUSALS_RECORDED_PER_DAY

    def notify_all(self, recipients: list[str], step: Step) -> None:
        for recipient in recipients:
            self.notify(recipient, step)

    def notify(self, recipient: str | None, step: Step) -> None:
        """Send a message beside the workflow, never in its way. It is audited at once ("notification_queued") and
        its outbox row is written in the same transaction as the record of its move (a transactional outbox), where
        the event is settled with what became of the message; with a mailer, a delivery follows that record."""
        if recipient is None:
            return
        self.note(QUEUED, message_detail(step.value, recipient))
        seq = len(self.events)
        self._unrecorded_messages.append(
            NotificationRequest(
                idempotency_key=f"{self._record_id}.{seq}.{step.value}.{recipient}",
                referral_id=self._record_id,
                recipient=recipient,
                step=step.value,
                seq=seq,
            )
        )

    async def _record_continuously(self) -> None:
        """The one background loop that records audit events, with the outbox rows of their messages.

        Decisions never wait for it: an update returns as soon as the state changed, and a slow or absent
        database only delays the records, which catch up when it answers again.
        """
        while True:
            await workflow.wait_condition(self._due)
            if self._recorded == len(self.events):
                return
            events = self.events[self._recorded : self._recorded + RECORD_BATCH_SIZE]
            messages = [m for m in self._unrecorded_messages if m.seq <= events[-1].seq]
            batch = self._next_batch(events, messages)
            written = await self._write(batch)
            self._unrecorded_messages = self._unrecorded_messages[len(messages) :]
            self._recorded += len(events)
            self._batch_written(batch)
            self._settle(messages, written.outcomes)

    def _due(self) -> bool:
        """Whether the loop has work: events to write (unless held until the finish), or the finish to return to."""
        if self._finishing:
            return self._recorded < len(self.events) or self._deliveries == 0
        return self._recorded < len(self.events) and not self._holding

    def _settle(self, messages: list[NotificationRequest], outcomes: list[NotificationOutcome]) -> None:
        """Keep the messages' events as the record settled them; hand what waits for the mailer to a delivery."""
        queued = []
        for message, outcome in zip(messages, outcomes, strict=True):
            self.events[message.seq - 1] = settled(self.events[message.seq - 1], outcome)
            if outcome.queued:
                queued.append(message)
            elif not outcome.delivered:
                count(Metric.NOTIFICATION_FAILURES, step=message.step)
        if queued:
            self._deliveries += 1
            asyncio.create_task(self._deliver(queued))  # noqa: RUF006 - tracked by the deliveries count

    async def _write(self, batch: B) -> BatchWritten:
        """Write one batch, retrying until the database answers. A refusal no retry can mend is counted (alert
        PeerReviewRecordsStuck) and tried again an hour later, never dropped."""
        while True:
            try:
                records_queue = queue(RECORDS_QUEUE_SUFFIX)
                return await RECORD.run(self._write_activity, batch, BatchWritten, task_queue=records_queue)
            except ActivityError as error:
                cause = error.cause
                kind = cause.type if isinstance(cause, ApplicationError) and cause.type else type(cause).__name__
                count(Metric.RECORDS_STUCK, error_type=kind)
                workflow.logger.error("records refused for good; trying again later", extra={"error_type": kind})
                await workflow.sleep(STUCK_RECORD_RETRY)

    async def _deliver(self, messages: list[NotificationRequest]) -> None:
        """Send what the record queued, in one activity; each outcome is audited as an event of its own."""
        batch = Notifications(requests=messages)
        try:
            try:
                delivered = await NOTIFICATION.run(
                    NOTIFY,
                    batch,
                    NotificationOutcomes,
                    deadline=self._notification_give_up,
                    task_queue=queue(NOTIFICATIONS_QUEUE_SUFFIX),
                )
            except ActivityError:
                # Delivery kept failing for the whole give-up period: mark what was not sent failed in the outbox.
                # That write is a record, so it retries like one.
                delivered = await RECORD.run(
                    NOTIFY,
                    batch.model_copy(update={"give_up": True}),
                    NotificationOutcomes,
                    task_queue=queue(NOTIFICATIONS_QUEUE_SUFFIX),
                )
            for request, outcome in zip(batch.requests, delivered.outcomes, strict=True):
                self.note(outcome.audit_action, f"{message_detail(request.step, request.recipient)}: {outcome.detail}")
                if not outcome.delivered:
                    count(Metric.NOTIFICATION_FAILURES, step=request.step)
        finally:
            self._deliveries -= 1


class ReviewRecordKeeper(RecordKeeper[RecordBatch]):
    """A review's record: the referral with its first batch, the findings once each time they change, and the
    review's projection (`view`) with every batch."""

    def __init__(
        self, review: ReviewInput, *, view: Callable[[], StatusView], findings: Callable[[], Findings | None]
    ) -> None:
        super().__init__(
            review.referral.referral_id,
            give_up_hours=review.policy.notification_give_up_hours,
            write_activity=RECORD_BATCH,
        )
        self._referral = review.referral
        # The deadlines the review runs by, recorded once so "as it stood on" can be rebuilt from the record alone.
        self._policy = review.policy
        self._view = view
        self._findings = findings
        self._recorded_findings: Findings | None = None

    def _next_batch(self, events: list[AuditEvent], messages: list[NotificationRequest]) -> RecordBatch:
        # The referral and the findings are written once each; later batches only move the projection on.
        current = self._findings()
        return RecordBatch(
            referral=self._referral if self._recorded == 0 else None,
            policy=self._policy if self._recorded == 0 else None,
            view=self._view(),
            events=events,
            findings=current if current is not self._recorded_findings else None,
            notifications=messages,
        )

    def _batch_written(self, batch: RecordBatch) -> None:
        self._recorded_findings = batch.findings or self._recorded_findings

    def escalate_directory_gaps(self, contacts: ReviewContacts) -> None:
        """Audit what the directory lacks for this review. A review always starts (a mandatory one is never
        refused); any gap is escalated to the Focal Point and the national leads, who make sure the review still
        moves on."""
        gaps = []
        if not contacts.referrer_known:
            gaps.append("referrer is not in the staff directory")
        if contacts.chair is None:
            gaps.append(f"no OSN Chair listed for {self._referral.osn}")
        for gap in gaps:
            self.note("directory_warning", gap)
        if gaps:
            recipients = list(dict.fromkeys([*contacts.focal_points, *contacts.national_leads]))
            told = ", ".join(recipients) or "nobody (no Focal Point or national lead is listed)"
            self.note("escalated", f"directory gap escalated to {told}")
            self.notify_all(recipients, Step.DIRECTORY_GAP)
