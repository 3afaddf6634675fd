"""PeerReviewWorkflow: one durable workflow per referral, from referral to closure.

Orchestration only. What is allowed comes from peer_review.domain.lifecycle, the triage policy from
peer_review.domain.triage; side effects happen in activities, called by name so that this module imports no I/O
library. Human actions arrive as updates (and the `chair_decision` signal). Every start, update and signal must
carry proof of the acting person, checked by the worker's interceptor (peer_review.temporal.proof_checks) before
any handler runs. A proven person's request is judged in its handler, so that a refusal enters history and the
record; validators refuse before history only what has no proof, or what would be refused once the review's
daily allowance of recorded refusals is spent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from peer_review.domain.deadlines import AlarmKind, Wait, escalation_recipients, reminder_recipients, start_wait
    from peer_review.domain.findings import findings_problems
    from peer_review.domain.lifecycle import (
        REFUSALS_RECORDED_PER_DAY,
        WAITING_STATUSES,
        ActionName,
        Rejection,
        RejectionKind,
        check_action,
        check_reviewer,
        contact_changes,
        next_status,
        refusal_action,
        relations_of,
        stage_of,
    )
    from peer_review.domain.models import (
        AuditEvent,
        ChairDecision,
        Deadline,
        Decision,
        Findings,
        FindingsSubmission,
        NotificationOutcome,
        NotificationRequest,
        Outcome,
        Priority,
        RecordBatch,
        ReviewContacts,
        ReviewerAssignment,
        ReviewInput,
        Rework,
        StaffLookup,
        Status,
        StatusView,
        Withdrawal,
    )
    from peer_review.domain.notices import Step
    from peer_review.domain.triage import triage
    from peer_review.temporal import metrics
    from peer_review.temporal import search_attributes as sa
    from peer_review.temporal.names import (
        FIND_STAFF,
        NOTIFICATIONS_QUEUE_SUFFIX,
        NOTIFY,
        RECORD_BATCH,
        RECORDS_QUEUE_SUFFIX,
        RESOLVE_CONTACTS,
    )
    from peer_review.temporal.proof_checks import proven

SYSTEM = "system"
DEADLINES_PATCH = "working-day-deadlines"
# One search-attribute upsert per move, and one record batch per move together with its notification outcomes.
LEAN_HISTORY_PATCH = "lean-history"
# How long a move's record waits for the notifications it sent, so that both go in one batch.
NOTIFICATION_GRACE = timedelta(seconds=5)
# Enough events per write to keep record-keeping to a handful of activities per review.
RECORD_BATCH_SIZE = 50

LOOKUP_TIMEOUT = timedelta(seconds=10)
# Errors no retry can mend (a malformed payload; a record the database refuses as it stands): fail at once.
NEVER_SUCCEEDS = ["ValidationError", "TypeError", "RecordRejected"]
LOOKUP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=NEVER_SUCCEEDS,
)
# A person waits on a look-up made inside an update, and deadlines wait on a refresh of who may act: past this,
# give up (an update is refused plainly; a refresh keeps the contacts it had) rather than hang.
LOOKUP_DEADLINE = timedelta(seconds=30)
DIRECTORY_UNAVAILABLE = "the staff directory is unavailable, try again"
# The records database is the system of record: keep trying until it answers, however long that takes.
RECORD_TIMEOUT = timedelta(seconds=30)
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
    non_retryable_error_types=NEVER_SUCCEEDS,
)
# After the database refused a batch for good (alert PeerReviewRecordsStuck), try it again this much later: an
# operator may have mended the schema or the data meanwhile. The review goes on; it closes only once recorded.
STUCK_RECORD_RETRY = timedelta(hours=1)
# A mail server that is down is retried with back-off until the policy's give-up period has passed.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=30)
)
T = TypeVar("T")


async def _look_up(activity: str, arg: object, result_type: type[T], *, deadline: timedelta | None = None) -> T:
    """A directory read: quick, safe to retry, and needed before the workflow can go on. With `deadline` (inside an
    update, where a person waits) it gives up after that long in all and the caller is told to try again."""
    try:
        result: T = await workflow.execute_activity(
            activity,
            arg,
            result_type=result_type,
            start_to_close_timeout=LOOKUP_TIMEOUT,
            schedule_to_close_timeout=deadline,
            retry_policy=LOOKUP_RETRY,
        )
    except ActivityError:
        if deadline is None:
            raise
        raise ApplicationError(DIRECTORY_UNAVAILABLE, type="Unavailable", non_retryable=True) from None
    return result


def _queue(suffix: str) -> str:
    return workflow.info().task_queue + suffix


def _rejected(rejection: Rejection) -> ApplicationError:
    return ApplicationError(rejection.reason, type=rejection.kind.value, non_retryable=True)


# A start input that breaks the contract (from a client that skipped validation) can never succeed: fail the
# workflow, naming the field, instead of failing its first task and retrying it for ever.
@workflow.defn(failure_exception_types=[ValidationError])
class PeerReviewWorkflow:
    @workflow.init
    def __init__(self, review: ReviewInput) -> None:
        self._referral = review.referral
        self._policy = review.policy
        self._status = Status.REFERRED
        self._outcome: Outcome | None = None
        self._mandatory: bool | None = None
        self._priority: Priority | None = None
        self._contacts: ReviewContacts | None = None
        self._reviewer: str | None = None
        self._findings: Findings | None = None
        self._wait: Wait | None = None
        self._events: list[AuditEvent] = []
        self._recorded = 0
        self._notifications_in_flight = 0
        self._recorded_findings: Findings | None = None
        self._lean_history = False
        self._finishing = False
        # Refusals of proven people recorded today (UTC): (day, count).
        self._refusals_recorded: tuple[str, int] = ("", 0)

    @workflow.run
    async def run(self, review: ReviewInput) -> StatusView:
        # Each upsert is a history event and a visibility write; reviews started before this patch made one per
        # attribute group and must replay as they ran (tests/histories/v2_*).
        self._lean_history = workflow.patched(LEAN_HISTORY_PATCH)
        recorder = asyncio.create_task(self._record_continuously())
        referral = self._referral
        referral_attributes = self._with_next_move(
            [
                sa.OSN.value_set(referral.osn),
                sa.REASONS.value_set([r.value for r in referral.reasons]),
                sa.LEVEL.value_set(referral.referral_level.value),
            ]
        )
        # `referred` and `triage` happen in the same workflow task, so only the second needs publishing, and not
        # even that when the client sent the start with the attributes of a review in triage.
        started_in_triage = sa.carries(workflow.info().typed_search_attributes, sa.at_start(referral))
        start = proven()
        self._move(
            SYSTEM,
            "referred",
            Status.REFERRED,
            f"referred by {referral.referred_by}",
            publish=not self._lean_history,
            proven_by=start.attribution() if start else None,
        )
        self._move(
            SYSTEM,
            "triage",
            Status.TRIAGE,
            publish=not (self._lean_history and started_in_triage),
            attributes=referral_attributes,
        )
        self._contacts = await _look_up(RESOLVE_CONTACTS, referral, ReviewContacts)
        for reason in referral.reasons:
            self._count(metrics.REVIEWS_STARTED, reason=reason.value, level=referral.referral_level.value)
        decision = triage(referral)
        self._mandatory, self._priority = decision.mandatory, decision.priority
        triage_attributes = self._with_next_move([sa.MANDATORY.value_set(decision.mandatory)])
        self._note_directory_gaps(self._contacts)
        if decision.mandatory:
            # Suicide-related reviews are mandatory: no Chair decision, straight to finding a reviewer.
            self._move(
                SYSTEM,
                "triaged_mandatory",
                Status.AWAITING_REVIEWER,
                f"priority {decision.priority}",
                attributes=triage_attributes,
            )
            self._notify(self._contacts.chair, Step.MANDATORY_STARTED)
            self._notify_all(self._contacts.focal_points, Step.REVIEWER_NEEDED)
        else:
            self._move(
                SYSTEM,
                "triaged",
                Status.AWAITING_CHAIR_DECISION,
                f"priority {decision.priority}",
                attributes=triage_attributes,
            )
            self._notify(self._contacts.chair, Step.DECISION_NEEDED)

        # Every lean-history review has deadlines: asking would cost another marker and upsert for nothing.
        if self._lean_history or workflow.patched(DEADLINES_PATCH):
            while self._status is not Status.CLOSED:
                await self._watch_deadline()
        else:
            # Reviews started before deadlines existed keep waiting without timers (tests/histories/v1_*).
            await workflow.wait_condition(lambda: self._status is Status.CLOSED)
        # Let any update that is mid-way finish, then flush every record and notification before closing.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await workflow.wait_condition(lambda: self._notifications_in_flight == 0)
        self._finishing = True
        await recorder
        return self._view()

    async def _watch_deadline(self) -> None:
        """Sleep until the current wait ends or its next alarm (reminder or escalation) is due.

        Who chairs the OSN is looked up again after each move and before each alarm, so a Chair who has left loses
        authority and a new one gains it (audited as contacts_changed), and an alarm goes to whoever holds the post.
        """
        wait = self._wait
        if wait is None:
            await workflow.wait_condition(lambda: self._wait is not None or self._status is Status.CLOSED)
            return
        when, kind = wait.next_alarm()
        try:
            await workflow.wait_condition(
                lambda: self._wait is not wait, timeout=max(when - workflow.now(), timedelta(seconds=1))
            )
        except TimeoutError:
            await self._refresh_contacts()
            # An action may have ended this wait while the timer fired or while the directory answered: then the
            # alarm belongs to a wait that is over, and raising it would put back that wait's deadline.
            if self._wait is wait:
                self._raise_alarm(wait, kind)
            return
        if self._status is not Status.CLOSED:
            await self._refresh_contacts()

    async def _refresh_contacts(self) -> None:
        assert self._contacts is not None
        try:
            contacts = await _look_up(RESOLVE_CONTACTS, self._referral, ReviewContacts, deadline=LOOKUP_DEADLINE)
        except ApplicationError:
            # The directory is down: keep who we had, so deadlines and alarms are not held up; the next move or
            # alarm looks again.
            return
        changes = contact_changes(self._contacts, contacts)
        if not changes:
            return
        self._contacts = contacts
        self._audit(SYSTEM, "contacts_changed", None, None, "; ".join(changes))

    def _raise_alarm(self, wait: Wait, kind: AlarmKind) -> None:
        assert self._contacts is not None
        self._wait = wait.after(kind)
        due = f"{wait.status.value} was due {wait.due_at:%Y-%m-%d %H:%M} UTC"
        if kind is AlarmKind.REMINDER:
            self._audit(SYSTEM, "reminder", None, None, due)
            self._notify_all(reminder_recipients(wait.status, self._contacts, self._reviewer), Step.REMINDER)
            return
        workflow.upsert_search_attributes([sa.OVERDUE.value_set(True)])
        self._count(metrics.OVERDUE, status=wait.status.value)
        self._audit(SYSTEM, "escalated", None, None, f"overdue ({self._wait.escalations}): {due}")
        self._notify_all(escalation_recipients(self._contacts, self._wait.escalations), Step.ESCALATION)

    # --- Queries --------------------------------------------------------------------------------------

    @workflow.query(name="status")
    def status(self) -> StatusView:
        return self._view()

    @workflow.query
    def audit_trail(self) -> list[AuditEvent]:
        return list(self._events)

    # --- The Chair's decision ---------------------------------------------------------------------------

    @workflow.update
    async def approve(self, decision: Decision) -> StatusView:
        await self._triaged()
        with self._refusal_recorded(ActionName.APPROVE, decision.actor):
            self._authorise(ActionName.APPROVE, decision.actor)
        return self._approve(decision)

    @approve.validator
    def _validate_approve(self, decision: Decision) -> None:
        self._validate(ActionName.APPROVE, decision.actor)

    @workflow.update
    async def decline(self, decision: Decision) -> StatusView:
        await self._triaged()
        with self._refusal_recorded(ActionName.DECLINE, decision.actor):
            self._authorise(ActionName.DECLINE, decision.actor)
            self._check_rationale(decision.rationale)
        return self._decline(decision)

    @decline.validator
    def _validate_decline(self, decision: Decision) -> None:
        self._validate(ActionName.DECLINE, decision.actor, lambda: self._check_rationale(decision.rationale))

    @workflow.signal
    async def chair_decision(self, decision: ChairDecision) -> None:
        """Fire-and-forget decision for integrations: same checks, and a refusal is kept in the audit trail."""
        await self._triaged()
        action = ActionName.APPROVE if decision.decision == "approve" else ActionName.DECLINE
        payload = Decision(actor=decision.actor, rationale=decision.rationale)
        try:
            with self._refusal_recorded(action, decision.actor):
                self._authorise(action, decision.actor)
                if action is ActionName.DECLINE:
                    self._check_rationale(decision.rationale)
        except ApplicationError:
            return  # a signal has nobody to answer: the refusal is in the record
        if action is ActionName.APPROVE:
            self._approve(payload)
        else:
            self._decline(payload)

    # --- Review -----------------------------------------------------------------------------------------

    @workflow.update
    async def assign_reviewer(self, assignment: ReviewerAssignment) -> StatusView:
        await self._triaged()
        with self._refusal_recorded(ActionName.ASSIGN_REVIEWER, assignment.actor):
            self._authorise(ActionName.ASSIGN_REVIEWER, assignment.actor)
            self._check_not_referrer(assignment.reviewer)
        lookup = await _look_up(FIND_STAFF, assignment.reviewer, StaffLookup, deadline=LOOKUP_DEADLINE)
        # The review may have moved on while the directory answered: check again before acting.
        with self._refusal_recorded(ActionName.ASSIGN_REVIEWER, assignment.actor):
            self._authorise(ActionName.ASSIGN_REVIEWER, assignment.actor)
            try:
                check_reviewer(lookup.staff, assignment.reviewer, self._referral)
            except Rejection as rejection:
                raise _rejected(rejection) from None
        self._reviewer = assignment.reviewer
        self._apply(ActionName.ASSIGN_REVIEWER, assignment.actor, f"reviewer {assignment.reviewer}")
        self._notify(assignment.reviewer, Step.REVIEWER_ASSIGNED)
        return self._view()

    @assign_reviewer.validator
    def _validate_assign_reviewer(self, assignment: ReviewerAssignment) -> None:
        self._validate(
            ActionName.ASSIGN_REVIEWER, assignment.actor, lambda: self._check_not_referrer(assignment.reviewer)
        )

    @workflow.update
    async def submit_findings(self, submission: FindingsSubmission) -> StatusView:
        await self._triaged()
        with self._refusal_recorded(ActionName.SUBMIT_FINDINGS, submission.actor):
            self._authorise(ActionName.SUBMIT_FINDINGS, submission.actor)
            self._check_findings(submission.findings)
        self._findings = submission.findings
        contentious = submission.findings.contentious
        self._apply(
            ActionName.SUBMIT_FINDINGS,
            submission.actor,
            "contentious: legal clearance needed" if contentious else None,
            contentious=contentious,
        )
        if contentious:
            self._notify_all(self._contacts.focal_points if self._contacts else [], Step.CLEARANCE_NEEDED)
        else:
            self._notify_chair(Step.SIGN_OFF_NEEDED)
        return self._view()

    @submit_findings.validator
    def _validate_submit_findings(self, submission: FindingsSubmission) -> None:
        self._validate(ActionName.SUBMIT_FINDINGS, submission.actor, lambda: self._check_findings(submission.findings))

    @workflow.update
    async def clear(self, action: Decision) -> StatusView:
        await self._triaged()
        with self._refusal_recorded(ActionName.CLEAR, action.actor):
            self._authorise(ActionName.CLEAR, action.actor)
        self._apply(ActionName.CLEAR, action.actor, action.rationale)
        self._notify_chair(Step.SIGN_OFF_NEEDED)
        return self._view()

    @clear.validator
    def _validate_clear(self, action: Decision) -> None:
        self._validate(ActionName.CLEAR, action.actor)

    @workflow.update
    async def sign_off(self, action: Decision) -> StatusView:
        await self._triaged()
        with self._refusal_recorded(ActionName.SIGN_OFF, action.actor):
            self._authorise(ActionName.SIGN_OFF, action.actor)
        self._apply(ActionName.SIGN_OFF, action.actor, action.rationale)
        self._notify_closed()
        return self._view()

    @sign_off.validator
    def _validate_sign_off(self, action: Decision) -> None:
        self._validate(ActionName.SIGN_OFF, action.actor)

    @workflow.update
    async def return_for_rework(self, rework: Rework) -> StatusView:
        await self._triaged()
        with self._refusal_recorded(ActionName.RETURN_FOR_REWORK, rework.actor):
            self._authorise(ActionName.RETURN_FOR_REWORK, rework.actor)
        self._apply(ActionName.RETURN_FOR_REWORK, rework.actor, rework.reason)
        self._notify(self._reviewer, Step.RETURNED_FOR_REWORK)
        return self._view()

    @return_for_rework.validator
    def _validate_return_for_rework(self, rework: Rework) -> None:
        self._validate(ActionName.RETURN_FOR_REWORK, rework.actor)

    @workflow.update
    async def withdraw(self, withdrawal: Withdrawal) -> StatusView:
        await self._triaged()
        with self._refusal_recorded(ActionName.WITHDRAW, withdrawal.actor):
            self._authorise(ActionName.WITHDRAW, withdrawal.actor)
        self._apply(ActionName.WITHDRAW, withdrawal.actor, withdrawal.reason)
        self._notify_closed()
        return self._view()

    @withdraw.validator
    def _validate_withdraw(self, withdrawal: Withdrawal) -> None:
        self._validate(ActionName.WITHDRAW, withdrawal.actor)

    # --- Decisions shared by the updates and the signal ------------------------------------------------

    def _approve(self, decision: Decision) -> StatusView:
        self._count(metrics.DECISIONS, decision="approve")
        self._apply(ActionName.APPROVE, decision.actor, decision.rationale)
        self._notify(self._referral.referred_by, Step.REFERRAL_APPROVED)
        self._notify_chair(Step.REVIEWER_NEEDED)
        return self._view()

    def _decline(self, decision: Decision) -> StatusView:
        self._count(metrics.DECISIONS, decision="decline")
        self._apply(ActionName.DECLINE, decision.actor, decision.rationale)
        self._notify(self._referral.referred_by, Step.REFERRAL_DECLINED)
        return self._view()

    def _validate(self, action: ActionName, actor: str, *checks: Callable[[], None]) -> None:
        """A proven person's request goes on to its handler, which judges it and records any refusal. Once today's
        allowance of recorded refusals is spent, a request that would be refused is refused here instead, before
        anything enters history, and only counted."""
        # Until triage has resolved who chairs the OSN, only the handler (after waiting) can judge.
        if self._contacts is None or self._refusal_room():
            return
        try:
            self._authorise(action, actor)
            for check in checks:
                check()
        except ApplicationError:
            self._count(metrics.REFUSALS_NOT_RECORDED, action=action.value)
            raise

    def _authorise(self, action: ActionName, actor: str) -> None:
        assert self._contacts is not None
        relations = relations_of(actor, referral=self._referral, contacts=self._contacts, reviewer=self._reviewer)
        try:
            check_action(
                action,
                status=self._status,
                relations=relations,
                mandatory=bool(self._mandatory),
                findings_submitted=self._findings is not None,
            )
        except Rejection as rejection:
            raise _rejected(rejection) from None

    @contextlib.contextmanager
    def _refusal_recorded(self, action: ActionName, actor: str) -> Iterator[None]:
        """Every refusal of a proven person is written to the record (up to the daily allowance), then raised."""
        try:
            yield
        except ApplicationError as refusal:
            self._count(metrics.REJECTED_ACTIONS, action=action.value, kind=refusal.type or "")
            if not self._refusal_room():
                self._count(metrics.REFUSALS_NOT_RECORDED, action=action.value)
                raise
            today = workflow.now().date().isoformat()
            day, count = self._refusals_recorded
            self._refusals_recorded = (today, (count if day == today else 0) + 1)
            self._audit(actor, refusal_action(action), self._status, self._status, refusal.message, self._proven_by())
            raise

    def _refusal_room(self) -> bool:
        day, count = self._refusals_recorded
        return day != workflow.now().date().isoformat() or count < REFUSALS_RECORDED_PER_DAY

    @staticmethod
    def _proven_by() -> str | None:
        proof = proven()
        return proof.attribution() if proof else None

    def _check_not_referrer(self, reviewer: str) -> None:
        if reviewer == self._referral.referred_by:
            raise _rejected(
                Rejection(RejectionKind.INVALID_INPUT, "reviewer: the referrer cannot review their own referral")
            )

    @staticmethod
    def _check_rationale(rationale: str | None) -> None:
        if not rationale:
            raise _rejected(Rejection(RejectionKind.INVALID_INPUT, "rationale: a decline needs a rationale"))

    def _check_findings(self, findings: Findings) -> None:
        problems = findings_problems(
            findings, journey_stages=self._policy.journey_stages, issues_raised=self._referral.issues_raised
        )
        if problems:
            raise _rejected(Rejection(RejectionKind.INVALID_INPUT, "; ".join(problems)))

    async def _triaged(self) -> None:
        await workflow.wait_condition(lambda: self._contacts is not None)

    def _apply(self, action: ActionName, actor: str, detail: str | None, *, contentious: bool = False) -> None:
        to_status, outcome = next_status(action, contentious=contentious)
        self._outcome = outcome
        self._move(actor, action.value, to_status, detail, proven_by=self._proven_by())

    # --- State, audit and side effects -------------------------------------------------------------------

    def _count(self, name: str, **labels: str) -> None:
        workflow.metric_meter().create_counter(name).add(1, labels)

    def _with_next_move(self, attributes: Sequence[SearchAttributeUpdate[Any]]) -> Sequence[SearchAttributeUpdate[Any]]:
        """The attributes to publish with the next move's upsert; reviews started before lean-history upserted
        each group on its own, and still do so on replay."""
        if self._lean_history:
            return attributes
        workflow.upsert_search_attributes(attributes)
        return ()

    def _move(
        self,
        actor: str,
        action: str,
        to_status: Status,
        detail: str | None = None,
        *,
        publish: bool = True,
        attributes: Sequence[SearchAttributeUpdate[Any]] = (),
        proven_by: str | None = None,
    ) -> None:
        """Change status, audit it and, with `publish`, upsert it with any other `attributes` in one event."""
        from_status = self._status if self._events else None
        self._count(metrics.TRANSITIONS, from_status=from_status.value if from_status else "", to_status=to_status)
        self._status = to_status
        if to_status in WAITING_STATUSES:
            self._wait = start_wait(to_status, workflow.now(), self._policy)
            due = sa.DUE_AT.value_set(self._wait.due_at)
        else:
            self._wait = None
            due = sa.DUE_AT.value_unset()
        if publish:
            workflow.upsert_search_attributes(
                [sa.STATUS.value_set(to_status.value), due, sa.OVERDUE.value_set(False), *attributes]
            )
        self._audit(actor, action, from_status, to_status, detail, proven_by)
        # workflow.logger is replay-safe: a replayed transition is not logged again.
        workflow.logger.info("review moved", extra={"status": to_status.value, "action": action})

    def _audit(
        self,
        actor: str,
        action: str,
        from_status: Status | None,
        to_status: Status | None,
        detail: str | None,
        proven_by: str | None = None,
    ) -> None:
        self._events.append(
            AuditEvent(
                seq=len(self._events) + 1,
                at=workflow.now(),
                actor=actor,
                action=action,
                from_status=from_status,
                to_status=to_status,
                detail=detail,
                proven_by=proven_by,
            )
        )

    def _note_directory_gaps(self, contacts: ReviewContacts) -> None:
        if not contacts.referrer_known:
            self._audit(SYSTEM, "directory_warning", None, None, "referrer is no longer in the staff directory")
        if contacts.chair is None:
            self._audit(SYSTEM, "directory_warning", None, None, f"no OSN Chair listed for {self._referral.osn}")

    def _view(self) -> StatusView:
        return StatusView(
            referral_id=self._referral.referral_id,
            status=self._status,
            stage=stage_of(self._status),
            outcome=self._outcome,
            mandatory=self._mandatory,
            osn=self._referral.osn,
            priority=self._priority,
            chair=self._contacts.chair if self._contacts else None,
            reviewer=self._reviewer,
            deadlines=[Deadline(status=self._wait.status, due_at=self._wait.due_at)] if self._wait else [],
            overdue=self._wait.overdue if self._wait else False,
            referred_by=self._referral.referred_by,
        )

    async def _record_continuously(self) -> None:
        """The one background loop that records audit events, in order and in batches.

        Decisions never wait for it: an update returns as soon as the state changed, and a slow or absent
        database only delays the records, which catch up when it answers again.
        """
        while True:
            await workflow.wait_condition(lambda: self._recorded < len(self._events) or self._finishing)
            if self._recorded == len(self._events):
                return
            if self._lean_history and self._notifications_in_flight:
                # A move's notifications usually land within milliseconds: waiting for them lets one write (one
                # activity, one workflow task) hold the move and their outcomes. A mail outage delays the record
                # of the move by NOTIFICATION_GRACE at most; the outcomes follow in a later batch.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._notifications_in_flight == 0, timeout=NOTIFICATION_GRACE
                    )
            batch = self._events[self._recorded : self._recorded + RECORD_BATCH_SIZE]
            # The referral and the findings are written once each; later batches only move the projection on.
            findings = self._findings if self._findings is not self._recorded_findings else None
            await self._record(
                RecordBatch(
                    referral=self._referral if self._recorded == 0 else None,
                    view=self._view(),
                    events=batch,
                    findings=findings,
                )
            )
            self._recorded += len(batch)
            self._recorded_findings = findings or self._recorded_findings

    async def _record(self, batch: RecordBatch) -> None:
        """Write one batch, retrying until the database answers. A refusal no retry can mend is counted (alert
        PeerReviewRecordsStuck) and tried again an hour later, never dropped."""
        while True:
            try:
                await workflow.execute_activity(
                    RECORD_BATCH,
                    batch,
                    result_type=int,
                    start_to_close_timeout=RECORD_TIMEOUT,
                    retry_policy=RECORD_RETRY,
                    task_queue=_queue(RECORDS_QUEUE_SUFFIX),
                )
                return
            except ActivityError as error:
                cause = error.cause
                kind = cause.type if isinstance(cause, ApplicationError) and cause.type else type(cause).__name__
                self._count(metrics.RECORDS_STUCK, error_type=kind)
                workflow.logger.error("records refused for good; trying again later", extra={"error_type": kind})
                await workflow.sleep(STUCK_RECORD_RETRY)

    def _notify_chair(self, step: Step) -> None:
        self._notify(self._contacts.chair if self._contacts else None, step)

    def _notify_closed(self) -> None:
        self._notify(self._referral.referred_by, Step.REVIEW_CLOSED)
        if self._reviewer:
            self._notify(self._reviewer, Step.REVIEW_CLOSED)

    def _notify_all(self, recipients: list[str], step: Step) -> None:
        for recipient in recipients:
            self._notify(recipient, step)

    def _notify(self, recipient: str | None, step: Step) -> None:
        """Send beside the review, never in its way; the outcome lands in the audit trail."""
        if recipient is None:
            return
        key = f"{self._referral.referral_id}.{len(self._events)}.{step.value}.{recipient}"
        request = NotificationRequest(
            idempotency_key=key, referral_id=self._referral.referral_id, recipient=recipient, step=step.value
        )
        self._notifications_in_flight += 1
        asyncio.create_task(self._deliver(request))  # noqa: RUF006 - tracked by the in-flight count

    async def _deliver(self, request: NotificationRequest) -> None:
        try:
            try:
                outcome = await workflow.execute_activity(
                    NOTIFY,
                    request,
                    result_type=NotificationOutcome,
                    start_to_close_timeout=timedelta(seconds=60),
                    schedule_to_close_timeout=timedelta(hours=self._policy.notification_give_up_hours),
                    retry_policy=NOTIFY_RETRY,
                    task_queue=_queue(NOTIFICATIONS_QUEUE_SUFFIX),
                )
            except ActivityError:
                # Delivery kept failing for the whole give-up period: mark it failed in the outbox. That write
                # is a record, so it retries like one.
                outcome = await workflow.execute_activity(
                    NOTIFY,
                    request.model_copy(update={"give_up": True}),
                    result_type=NotificationOutcome,
                    start_to_close_timeout=RECORD_TIMEOUT,
                    retry_policy=RECORD_RETRY,
                    task_queue=_queue(NOTIFICATIONS_QUEUE_SUFFIX),
                )
            detail = f"{request.step} to {request.recipient}: {outcome.detail}"
            self._audit(SYSTEM, outcome.audit_action, None, None, detail)
            if not outcome.delivered:
                self._count(metrics.NOTIFICATION_FAILURES, step=request.step)
        finally:
            self._notifications_in_flight -= 1
