"""RecommendationWorkflow: one durable workflow per recommendation of signed-off findings, from `proposed` to
`verified` (or `not_accepted`).

Started by the review at sign-off (workflows/peer_review.py), which never waits for it. Orchestration only: what
is allowed comes from the table in peer_review.domain.recommendations; side effects (directory look-ups, the
hash-chained record, notifications) go through workflows/side_effects.py, deadlines through
workflows/deadline_watch.py, exactly as for reviews. Every action is an update carrying proof of the acting person
(checked by the worker's interceptor); a proven person's refusal is recorded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from peer_review.domain.deadlines import AlarmKind, Wait
    from peer_review.domain.lifecycle import Rejection, RejectionKind
    from peer_review.domain.models import (
        AuditEvent,
        RecommendationAct,
        RecommendationBatch,
        RecommendationContacts,
        RecommendationInput,
        RecommendationParties,
        RecommendationStatus,
        RecommendationView,
    )
    from peer_review.domain.notices import Step
    from peer_review.domain.recommendations import (
        FINAL_STATUSES,
        STEP_BY_ACTION,
        RecommendationAction,
        check_step,
        escalation_recipients,
        next_wait,
        parties_of,
        reminder_recipients,
        verifiers,
    )
    from peer_review.temporal import metrics
    from peer_review.temporal.names import RECORD_RECOMMENDATION, RESOLVE_RECOMMENDATION_CONTACTS
    from peer_review.temporal.proof_checks import proven

from workflows.deadline_watch import watch_deadline
from workflows.side_effects import LOOKUP_DEADLINE, SYSTEM, RecordKeeper, count, look_up

A = RecommendationAction


def _rejected(rejection: Rejection) -> ApplicationError:
    return ApplicationError(rejection.reason, type=rejection.kind.value, non_retryable=True)


def _proven_by() -> str | None:
    proof = proven()
    return proof.attribution() if proof else None


class RecommendationRecordKeeper(RecordKeeper[RecommendationBatch]):
    """A recommendation's record, filed under its id in the same hash-chained audit table as reviews."""

    def __init__(self, item: RecommendationInput, *, view: Callable[[], RecommendationView]) -> None:
        super().__init__(
            item.recommendation_id,
            give_up_hours=item.policy.notification_give_up_hours,
            write_activity=RECORD_RECOMMENDATION,
        )
        self._view = view

    def _next_batch(self, events: list[AuditEvent]) -> RecommendationBatch:
        return RecommendationBatch(view=self._view(), events=events)


@workflow.defn(failure_exception_types=[ValidationError])
class RecommendationWorkflow:
    @workflow.init
    def __init__(self, item: RecommendationInput) -> None:
        self._item = item
        self._owner = item.recommendation.owner
        self._status = RecommendationStatus.PROPOSED
        self._contacts: RecommendationContacts | None = None
        self._wait: Wait[RecommendationStatus] | None = None
        self._rationale: str | None = None
        self._evidence: str | None = None
        self._implemented_by: str | None = None
        self._records = RecommendationRecordKeeper(item, view=self._view)

    @workflow.run
    async def run(self, item: RecommendationInput) -> RecommendationView:
        self._records.start()
        self._contacts = await look_up(
            RESOLVE_RECOMMENDATION_CONTACTS, self._parties(self._owner), RecommendationContacts
        )
        self._move(
            SYSTEM, "proposed", RecommendationStatus.PROPOSED, f"from the signed-off findings of {item.referral_id}"
        )
        if not self._contacts.owner_known:
            self._records.note("directory_warning", f"owner {self._owner} is not in the staff directory")
        self._records.notify_all(self._contacts.owner_contacts, Step.RECOMMENDATION_TO_DECIDE)
        while self._status not in FINAL_STATUSES:
            await watch_deadline(
                lambda: self._wait,
                finished=lambda: self._status in FINAL_STATUSES,
                refresh=self._refresh_contacts,
                alarm=self._raise_alarm,
            )
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._records.finish()
        return self._view()

    @workflow.query(name="status")
    def status(self) -> RecommendationView:
        return self._view()

    @workflow.query
    def audit_trail(self) -> list[AuditEvent]:
        return list(self._records.events)

    # --- The actions, one update per row of the table ---------------------------------------------------

    @workflow.update
    async def accept(self, request: RecommendationAct) -> RecommendationView:
        return await self._act(A.ACCEPT, request)

    @accept.validator
    def _validate_accept(self, request: RecommendationAct) -> None:
        self._validate(A.ACCEPT, request)

    @workflow.update
    async def decline(self, request: RecommendationAct) -> RecommendationView:
        return await self._act(A.DECLINE, request)

    @decline.validator
    def _validate_decline(self, request: RecommendationAct) -> None:
        self._validate(A.DECLINE, request)

    @workflow.update
    async def start(self, request: RecommendationAct) -> RecommendationView:
        return await self._act(A.START, request)

    @start.validator
    def _validate_start(self, request: RecommendationAct) -> None:
        self._validate(A.START, request)

    @workflow.update
    async def implement(self, request: RecommendationAct) -> RecommendationView:
        return await self._act(A.IMPLEMENT, request)

    @implement.validator
    def _validate_implement(self, request: RecommendationAct) -> None:
        self._validate(A.IMPLEMENT, request)

    @workflow.update
    async def verify(self, request: RecommendationAct) -> RecommendationView:
        return await self._act(A.VERIFY, request)

    @verify.validator
    def _validate_verify(self, request: RecommendationAct) -> None:
        self._validate(A.VERIFY, request)

    @workflow.update
    async def reopen(self, request: RecommendationAct) -> RecommendationView:
        return await self._act(A.REOPEN, request)

    @reopen.validator
    def _validate_reopen(self, request: RecommendationAct) -> None:
        self._validate(A.REOPEN, request)

    @workflow.update
    async def reassign(self, request: RecommendationAct) -> RecommendationView:
        return await self._act(A.REASSIGN, request)

    @reassign.validator
    def _validate_reassign(self, request: RecommendationAct) -> None:
        self._validate(A.REASSIGN, request)

    # --- Judging and applying an action ------------------------------------------------------------------

    async def _act(self, action: RecommendationAction, request: RecommendationAct) -> RecommendationView:
        new_contacts: RecommendationContacts | None = None
        with self._refusal_recorded(action, request.actor):
            await workflow.wait_condition(lambda: self._contacts is not None)
            self._authorise(action, request)
            if action is A.REASSIGN and request.owner is not None:
                new_contacts = await self._owner_contacts(request.owner)
            # The recommendation may have moved on while the directory answered: check again before acting.
            self._authorise(action, request)
        if action is A.REASSIGN:
            assert request.owner is not None and new_contacts is not None
            detail = f"owner {self._owner} -> {request.owner}"
            self._owner, self._contacts = request.owner, new_contacts
            self._records.audit(request.actor, action.value, self._status, self._status, detail, _proven_by())
            if self._status is RecommendationStatus.PROPOSED:
                self._records.notify_all(new_contacts.owner_contacts, Step.RECOMMENDATION_TO_DECIDE)
            return self._view()
        to_status = STEP_BY_ACTION[action].to_status
        assert to_status is not None
        note = request.rationale or request.evidence or request.reason
        if action is A.DECLINE:
            self._rationale = request.rationale
        if action is A.IMPLEMENT:
            self._evidence, self._implemented_by = request.evidence, request.actor
        if action is A.REOPEN:
            self._implemented_by = None
        self._move(request.actor, action.value, to_status, note, proven_by=_proven_by())
        self._notify_after(action)
        return self._view()

    def _notify_after(self, action: RecommendationAction) -> None:
        assert self._contacts is not None
        if action is A.IMPLEMENT:
            self._records.notify_all(
                verifiers(self._item.recommendation.level, self._contacts), Step.RECOMMENDATION_TO_VERIFY
            )
        elif action is A.REOPEN:
            self._records.notify_all(self._contacts.owner_contacts, Step.RECOMMENDATION_REOPENED)

    async def _owner_contacts(self, owner: str) -> RecommendationContacts:
        contacts = await look_up(
            RESOLVE_RECOMMENDATION_CONTACTS, self._parties(owner), RecommendationContacts, deadline=LOOKUP_DEADLINE
        )
        if not contacts.owner_known:
            message = f"owner: {owner} is not a staff or team id in the directory"
            raise _rejected(Rejection(RejectionKind.INVALID_INPUT, message))
        return contacts

    def _validate(self, action: RecommendationAction, request: RecommendationAct) -> None:
        """A proven person's request goes on to its handler, which judges it and records any refusal; once today's
        allowance of recorded refusals is spent, a request that would be refused is refused here, only counted."""
        if self._contacts is None or self._records.refusal_room():
            return
        try:
            self._authorise(action, request)
        except ApplicationError:
            count(metrics.REFUSALS_NOT_RECORDED, action=action.value)
            raise

    def _authorise(self, action: RecommendationAction, request: RecommendationAct) -> None:
        assert self._contacts is not None
        try:
            check_step(
                action,
                status=self._status,
                level=self._item.recommendation.level,
                parties=parties_of(request.actor, self._contacts),
                implemented_by=self._implemented_by,
                actor=request.actor,
                request=request,
            )
        except Rejection as rejection:
            raise _rejected(rejection) from None

    @contextlib.contextmanager
    def _refusal_recorded(self, action: RecommendationAction, actor: str) -> Iterator[None]:
        try:
            yield
        except ApplicationError as refusal:
            if refusal.type != "Unavailable":
                self._records.refusal(actor, action, refusal.type or "", refusal.message, self._status, _proven_by())
            raise

    # --- State, deadlines, record ------------------------------------------------------------------------

    def _move(
        self, actor: str, action: str, to_status: RecommendationStatus, detail: str | None, proven_by: str | None = None
    ) -> None:
        from_status = self._status if self._records.events else None
        self._status = to_status
        self._wait = next_wait(to_status, workflow.now(), self._item.policy, self._wait)
        self._records.audit(actor, action, from_status, to_status, detail, proven_by)
        workflow.logger.info("recommendation moved", extra={"status": to_status.value, "action": action})

    def _parties(self, owner: str) -> RecommendationParties:
        return RecommendationParties(owner=owner, osn=self._item.osn)

    async def _refresh_contacts(self) -> None:
        try:
            contacts = await look_up(
                RESOLVE_RECOMMENDATION_CONTACTS,
                self._parties(self._owner),
                RecommendationContacts,
                deadline=LOOKUP_DEADLINE,
            )
        except ApplicationError:
            return  # the directory is down: keep who we had; the next move or alarm looks again
        if contacts != self._contacts:
            self._contacts = contacts
            self._records.note("contacts_changed", "who acts on the recommendation changed in the directory")

    def _raise_alarm(self, wait: Wait[RecommendationStatus], kind: AlarmKind) -> None:
        assert self._contacts is not None
        level = self._item.recommendation.level
        self._wait = wait.after(kind)
        due = f"{wait.status.value} was due {wait.due_at:%Y-%m-%d %H:%M} UTC"
        if kind is AlarmKind.REMINDER:
            self._records.note("reminder", due)
            self._records.notify_all(
                reminder_recipients(wait.status, level, self._contacts), Step.RECOMMENDATION_REMINDER
            )
            return
        self._records.note("escalated", f"overdue ({self._wait.escalations}): {due}")
        recipients = escalation_recipients(level, self._contacts, self._wait.escalations)
        self._records.notify_all(recipients, Step.RECOMMENDATION_ESCALATION)

    def _view(self) -> RecommendationView:
        item = self._item.recommendation
        return RecommendationView(
            recommendation_id=self._item.recommendation_id,
            referral_id=self._item.referral_id,
            position=self._item.position,
            level=item.level,
            text=item.text,
            owner=self._owner,
            theme=item.theme,
            stage=item.stage,
            osn=self._item.osn,
            status=self._status,
            due_at=self._wait.due_at if self._wait else None,
            overdue=self._wait.overdue if self._wait else False,
            rationale=self._rationale,
            evidence=self._evidence,
        )
