"""RecommendationWorkflow: one durable workflow per recommendation of signed-off findings, from `proposed` to
`verified` (or `not_accepted`).

Started by the review at sign-off (workflows/recommendation_starts.py), which never waits for it. Orchestration
only: what is allowed comes from the table in peer_review.domain.recommendations; side effects (directory look-ups,
the hash-chained record, notifications) go through workflows/side_effects.py, deadlines through
workflows/deadline_watch.py, exactly as for reviews. Every action is an update carrying proof of the acting person
(checked by the worker's interceptor); a proven person's refusal is recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from peer_review.domain.deadlines import AlarmKind, Wait
    from peer_review.domain.lifecycle import Rejection, RejectionKind
    from peer_review.domain.models import (
        ActionPayload,
        AuditEvent,
        NotificationRequest,
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
    from peer_review.temporal.names import RECORD_RECOMMENDATION, RESOLVE_RECOMMENDATION_CONTACTS

from workflows.deadline_watch import watch_deadline
from workflows.human_actions import HumanActions, action_update, proven_by, rejected
from workflows.side_effects import LOOKUP_DEADLINE, SYSTEM, RecordKeeper, look_up

A = RecommendationAction


class RecommendationRecordKeeper(RecordKeeper[RecommendationBatch]):
    """A recommendation's record, filed under its id in the same hash-chained audit table as reviews."""

    def __init__(self, item: RecommendationInput, *, view: Callable[[], RecommendationView]) -> None:
        super().__init__(
            item.recommendation_id,
            give_up_hours=item.policy.notification_give_up_hours,
            write_activity=RECORD_RECOMMENDATION,
        )
        self._view = view

    def _next_batch(self, events: list[AuditEvent], messages: list[NotificationRequest]) -> RecommendationBatch:
        return RecommendationBatch(view=self._view(), events=events, notifications=messages)


@workflow.defn(failure_exception_types=[ValidationError])
class RecommendationWorkflow(HumanActions[RecommendationAction, RecommendationStatus]):
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
        self._records: RecommendationRecordKeeper = RecommendationRecordKeeper(item, view=self._view)

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

    # --- The actions: what each does once its request is judged (workflows/human_actions.py) ---------------

    async def _move_on(self, action: RecommendationAction, request: RecommendationAct) -> RecommendationView:
        to_status = STEP_BY_ACTION[action].to_status
        assert to_status is not None
        note = request.rationale or request.evidence or request.reason
        if action is A.DECLINE:
            self._rationale = request.rationale
        if action is A.IMPLEMENT:
            self._evidence, self._implemented_by = request.evidence, request.actor
        if action is A.REOPEN:
            self._implemented_by = None
        self._move(request.actor, action.value, to_status, note, proven_by=proven_by())
        self._notify_after(action)
        return self._view()

    async def _reassign(self, action: RecommendationAction, request: RecommendationAct) -> RecommendationView:
        assert request.owner is not None  # the table requires an owner to reassign to
        with self._refusal_recorded(action, request.actor):
            new_contacts = await self._owner_contacts(request.owner)
        # The recommendation may have moved on while the directory answered.
        self.judge_again(action, request)
        detail = f"owner {self._owner} -> {request.owner}"
        self._owner, self._contacts = request.owner, new_contacts
        self._records.audit(request.actor, action.value, self._status, self._status, detail, proven_by())
        if self._status is RecommendationStatus.PROPOSED:
            self._records.notify_all(new_contacts.owner_contacts, Step.RECOMMENDATION_TO_DECIDE)
        return self._view()

    # --- The updates: one per action of peer_review.domain.recommendations, each with its validator ---------

    accept = action_update(A.ACCEPT, _move_on)
    decline = action_update(A.DECLINE, _move_on)
    start = action_update(A.START, _move_on)
    implement = action_update(A.IMPLEMENT, _move_on)
    verify = action_update(A.VERIFY, _move_on)
    reopen = action_update(A.REOPEN, _move_on)
    reassign = action_update(A.REASSIGN, _reassign)

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
            raise rejected(Rejection(RejectionKind.INVALID_INPUT, message))
        return contacts

    def _authorise(self, action: RecommendationAction, request: ActionPayload) -> None:
        assert self._contacts is not None and isinstance(request, RecommendationAct)
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
            raise rejected(rejection) from None

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
