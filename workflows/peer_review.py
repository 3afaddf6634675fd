"""PeerReviewWorkflow: one durable workflow per referral, from referral to closure.

Orchestration only. What is allowed comes from peer_review.domain.lifecycle, the triage policy from
peer_review.domain.triage; side effects happen in activities, called by name so that this module imports no I/O
library (see workflows/side_effects.py, which also keeps the audit trail). Human actions arrive as updates (and
the `chair_decision` signal). Every start, update and signal must carry proof of the acting person, checked by the
worker's interceptor (peer_review.temporal.proof_checks) before any handler runs. A proven person's request is
judged in its handler, so that a refusal enters history and the record; validators refuse before history only
what has no proof, or what would be refused once the review's daily allowance of recorded refusals is spent.
Beside it: review_checks.py (what a request must pass besides who may act), review_deadlines.py (what the deadline
watch asks of a review), review_notices.py (who hears what), recommendation_starts.py (tracking at sign-off).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from peer_review.domain.deadlines import AlarmKind, Wait, start_wait
    from peer_review.domain.lifecycle import (
        WAITING_STATUSES,
        ActionName,
        Rejection,
        after_reason_added,
        chair_stands_aside,
        check_action,
        next_status,
        relations_of,
        stage_of,
    )
    from peer_review.domain.models import (
        ActionPayload,
        ChairDecision,
        Deadline,
        Decision,
        Findings,
        FindingsSubmission,
        Outcome,
        Priority,
        Reason,
        ReasonAddition,
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
    from peer_review.temporal import search_attributes as sa
    from peer_review.temporal.metrics import Metric
    from peer_review.temporal.names import FIND_STAFF, RESOLVE_CONTACTS

from workflows.deadline_watch import watch_deadline
from workflows.human_actions import HumanActions, action_update, proven_by, rejected
from workflows.recommendation_starts import start_tracking
from workflows.review_checks import (
    check_findings,
    check_independent,
    check_new_reason,
    check_owners,
    check_rationale,
    check_reviewer_found,
)
from workflows.review_deadlines import raise_alarm, refreshed_contacts
from workflows.review_notices import ReviewNotices
from workflows.side_effects import LOOKUP_DEADLINE, SYSTEM, ReviewRecordKeeper, count, look_up


# A start input that breaks the contract (from a client that skipped validation) can never succeed: fail the
# workflow, naming the field, instead of failing its first task and retrying it for ever.
@workflow.defn(failure_exception_types=[ValidationError])
class PeerReviewWorkflow(HumanActions[ActionName, Status]):
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
        # Reasons that came to light during the review; the referral's own reasons never change.
        self._added_reasons: list[Reason] = []
        self._wait: Wait[Status] | None = None
        self._records: ReviewRecordKeeper = ReviewRecordKeeper(review, view=self._view, findings=lambda: self._findings)
        self._notices = ReviewNotices(
            review.referral, self._records, contacts=lambda: self._contacts, reviewer=lambda: self._reviewer
        )

    @workflow.run
    async def run(self, review: ReviewInput) -> StatusView:
        self._records.start()
        referral = self._referral
        # Each upsert is a history event and a visibility write, so each move publishes its status once, with any
        # other attribute that changed. `referred` and `triage` happen in the same workflow task: only `triage` is
        # published, and not even that when the client sent the attributes of a review in triage with the start.
        referred = f"referred by {referral.referred_by}"
        self._move(SYSTEM, "referred", Status.REFERRED, referred, publish=False, proven_by=proven_by())
        self._move(
            SYSTEM,
            "triage",
            Status.TRIAGE,
            publish=not sa.carries(workflow.info().typed_search_attributes, sa.at_start(referral)),
            attributes=[
                sa.OSN.value_set(referral.osn),
                sa.REASONS.value_set([r.value for r in referral.reasons]),
                sa.LEVEL.value_set(referral.referral_level.value),
            ],
        )
        self._contacts = await look_up(RESOLVE_CONTACTS, referral, ReviewContacts)
        for reason in referral.reasons:
            count(Metric.REVIEWS_STARTED, reason=reason.value, level=referral.referral_level.value)
        decision = triage(referral)
        self._mandatory, self._priority = decision.mandatory, decision.priority
        self._records.escalate_directory_gaps(self._contacts)
        mandatory = [sa.MANDATORY.value_set(decision.mandatory)]
        priority = f"priority {decision.priority}"
        if decision.mandatory:
            # Suicide-related reviews are mandatory: no Chair decision, straight to finding a reviewer.
            self._move(SYSTEM, "triaged_mandatory", Status.AWAITING_REVIEWER, priority, attributes=mandatory)
            self._notices.chair(Step.MANDATORY_STARTED)
            self._notices.focal_points(Step.REVIEWER_NEEDED)
        else:
            self._move(SYSTEM, "triaged", Status.AWAITING_CHAIR_DECISION, priority, attributes=mandatory)
            self._notices.chair(Step.DECISION_NEEDED)
        while self._status is not Status.CLOSED:
            await self._watch_deadline()
        # Let any update that is mid-way finish, then flush every notification and record before closing.
        await workflow.wait_condition(workflow.all_handlers_finished)
        if self._outcome is Outcome.COMPLETED:
            assert self._findings is not None
            await start_tracking(self._referral, self._policy, self._findings, self._records)
        await self._records.finish()
        return self._view()

    async def _watch_deadline(self) -> None:
        """Who may act is looked up again after each move and before each alarm, so a Chair who has left loses
        authority and a new one gains it (audited as contacts_changed), and an alarm goes to whoever holds the post.
        """
        await watch_deadline(
            lambda: self._wait,
            finished=lambda: self._status is Status.CLOSED,
            refresh=self._refresh_contacts,
            alarm=self._raise_alarm,
        )

    async def _refresh_contacts(self) -> None:
        assert self._contacts is not None
        self._contacts = await refreshed_contacts(self._referral, self._contacts, self._records)

    def _raise_alarm(self, wait: Wait[Status], kind: AlarmKind) -> None:
        assert self._contacts is not None
        self._wait = raise_alarm(wait, kind, contacts=self._contacts, reviewer=self._reviewer, records=self._records)

    # --- Queries (the audit trail's is HumanActions') and the Chair's decision as a signal ---------------

    @workflow.query(name="status")
    def status(self) -> StatusView:
        return self._view()

    @workflow.signal
    async def chair_decision(self, decision: ChairDecision) -> None:
        """Fire-and-forget decision for integrations: same checks, and a refusal is kept in the audit trail."""
        action = ActionName.APPROVE if decision.decision == "approve" else ActionName.DECLINE
        payload = Decision(actor=decision.actor, rationale=decision.rationale)
        checks = [lambda: check_rationale(payload)] if action is ActionName.DECLINE else []
        try:
            await self.judge(action, payload, *checks)
        except ApplicationError:
            return  # a signal has nobody to answer: the refusal is in the record
        if action is ActionName.APPROVE:
            await self._approve(action, payload)
        else:
            await self._decline(action, payload)

    # --- The human actions: what each one does once its request is judged (workflows/human_actions.py) -----

    async def _approve(self, action: ActionName, decision: Decision) -> StatusView:
        count(Metric.DECISIONS, decision="approve")
        self._apply(action, decision.actor, decision.rationale)
        self._records.notify(self._referral.referred_by, Step.REFERRAL_APPROVED)
        self._notices.chair(Step.REVIEWER_NEEDED)
        return self._view()

    async def _decline(self, action: ActionName, decision: Decision) -> StatusView:
        count(Metric.DECISIONS, decision="decline")
        self._apply(action, decision.actor, decision.rationale)
        self._records.notify(self._referral.referred_by, Step.REFERRAL_DECLINED)
        return self._view()

    async def _assign_reviewer(self, action: ActionName, assignment: ReviewerAssignment) -> StatusView:
        lookup = await look_up(FIND_STAFF, assignment.reviewer, StaffLookup, deadline=LOOKUP_DEADLINE)
        self.judge_again(
            action, assignment, lambda: check_reviewer_found(lookup.staff, assignment.reviewer, self._referral)
        )
        self._reviewer = assignment.reviewer
        self._apply(action, assignment.actor, f"reviewer {assignment.reviewer}")
        self._records.notify(assignment.reviewer, Step.REVIEWER_ASSIGNED)
        return self._view()

    async def _submit_findings(self, action: ActionName, submission: FindingsSubmission) -> StatusView:
        with self._refusal_recorded(action, submission.actor):
            owners = await check_owners(submission.findings)
        # The review may have gained a reason while the directory answered.
        self.judge_again(action, submission, lambda: self._check_findings(submission))
        self._findings = submission.findings
        self._notices.local_owner_contacts = owners
        contentious = submission.findings.contentious
        detail = "contentious: legal clearance needed" if contentious else None
        self._apply(action, submission.actor, detail, contentious=contentious)
        if contentious:
            self._notices.focal_points(Step.CLEARANCE_NEEDED)
        else:
            self._notices.chair(Step.SIGN_OFF_NEEDED)
        return self._view()

    async def _clear(self, action: ActionName, clearance: Decision) -> StatusView:
        self._apply(action, clearance.actor, clearance.rationale)
        self._notices.chair(Step.SIGN_OFF_NEEDED)
        return self._view()

    async def _sign_off(self, action: ActionName, sign_off: Decision) -> StatusView:
        self._apply(action, sign_off.actor, sign_off.rationale)
        self._notices.closed()
        self._notices.local_feedback()
        return self._view()

    async def _return_for_rework(self, action: ActionName, rework: Rework) -> StatusView:
        self._apply(action, rework.actor, rework.reason)
        self._records.notify(self._reviewer, Step.RETURNED_FOR_REWORK)
        return self._view()

    async def _withdraw(self, action: ActionName, withdrawal: Withdrawal) -> StatusView:
        self._apply(action, withdrawal.actor, withdrawal.reason)
        self._notices.closed()
        return self._view()

    async def _add_reason(self, action: ActionName, addition: ReasonAddition) -> StatusView:
        """A case can change while it is reviewed: a reason that came to light may make the review mandatory."""
        was_mandatory = bool(self._mandatory)
        self._added_reasons.append(addition.reason)
        decision = triage(self._referral, self._added_reasons)
        self._mandatory, self._priority = decision.mandatory, decision.priority
        detail = addition.reason.value + (f": {addition.detail}" if addition.detail else "")
        self._apply(action, addition.actor, detail)
        attributes: list[SearchAttributeUpdate[Any]] = [
            sa.REASONS.value_set([r.value for r in self._reasons]),
            sa.MANDATORY.value_set(decision.mandatory),
        ]
        skipped_to = after_reason_added(self._status, was_mandatory=was_mandatory, now_mandatory=decision.mandatory)
        if skipped_to is not None:
            self._move(
                SYSTEM, "chair_decision_skipped", skipped_to, "mandatory: no Chair decision", attributes=attributes
            )
        else:
            workflow.upsert_search_attributes(attributes)
        if decision.mandatory and not was_mandatory:
            self._records.note("made_mandatory", f"priority {decision.priority}")
            self._notices.chair(Step.MADE_MANDATORY)
            self._notices.focal_points(Step.MADE_MANDATORY)
        return self._view()

    # --- Judging a request ------------------------------------------------------------------------------

    def _authorise(self, action: ActionName, request: ActionPayload) -> None:
        assert self._contacts is not None
        relations = relations_of(
            request.actor, referral=self._referral, contacts=self._contacts, reviewer=self._reviewer
        )
        try:
            check_action(
                action,
                status=self._status,
                relations=relations,
                mandatory=bool(self._mandatory),
                findings_submitted=self._findings is not None,
                chair_aside=chair_stands_aside(self._referral, self._contacts, self._reviewer),
            )
        except Rejection as rejection:
            raise rejected(rejection) from None

    # The validators' checks (workflows/review_checks.py), on what the review knows now.

    def _check_rationale(self, decision: Decision) -> None:
        check_rationale(decision)

    def _check_independent(self, assignment: ReviewerAssignment) -> None:
        check_independent(assignment.reviewer, self._referral)

    def _check_new_reason(self, addition: ReasonAddition) -> None:
        check_new_reason(addition, self._reasons)

    def _check_findings(self, submission: FindingsSubmission) -> None:
        check_findings(submission.findings, referral=self._referral, policy=self._policy, reasons=self._reasons)

    # --- The updates: one per row of peer_review.domain.actions, each with its validator -----------------

    approve = action_update(ActionName.APPROVE, _approve)
    decline = action_update(ActionName.DECLINE, _decline, _check_rationale)
    assign_reviewer = action_update(ActionName.ASSIGN_REVIEWER, _assign_reviewer, _check_independent)
    submit_findings = action_update(ActionName.SUBMIT_FINDINGS, _submit_findings, _check_findings)
    clear = action_update(ActionName.CLEAR, _clear)
    sign_off = action_update(ActionName.SIGN_OFF, _sign_off)
    return_for_rework = action_update(ActionName.RETURN_FOR_REWORK, _return_for_rework)
    withdraw = action_update(ActionName.WITHDRAW, _withdraw)
    add_reason = action_update(ActionName.ADD_REASON, _add_reason, _check_new_reason)

    @property
    def _reasons(self) -> list[Reason]:
        return [*self._referral.reasons, *self._added_reasons]

    def _apply(self, action: ActionName, actor: str, detail: str | None, *, contentious: bool = False) -> None:
        to_status, outcome = next_status(action, contentious=contentious)
        if to_status is None:
            # An amendment where the review stands: audited, no move.
            self._records.audit(actor, action.value, self._status, self._status, detail, proven_by())
            return
        self._outcome = outcome
        self._move(actor, action.value, to_status, detail, proven_by=proven_by())

    # --- State, audit and side effects -------------------------------------------------------------------

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
        from_status = self._status if self._records.events else None
        count(Metric.TRANSITIONS, from_status=from_status.value if from_status else "", to_status=to_status)
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
        self._records.audit(actor, action, from_status, to_status, detail, proven_by)
        if to_status is Status.CLOSED:
            self._records.hold()
        # workflow.logger is replay-safe: a replayed transition is not logged again.
        workflow.logger.info("review moved", extra={"status": to_status.value, "action": action})

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
            reasons=self._reasons,
            journey_stages=list(self._policy.journey_stages),
            referred_by=self._referral.referred_by,
        )
