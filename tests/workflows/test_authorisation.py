"""Every action against every kind of person: exactly the allowed combinations succeed, the rest change nothing."""

from __future__ import annotations

import pytest
from temporalio.client import Client

from peer_review.domain.lifecycle import ActionName, RejectionKind
from peer_review.domain.models import (
    ActionPayload,
    Decision,
    FindingsSubmission,
    Reason,
    ReasonAddition,
    ReviewerAssignment,
    Rework,
    Withdrawal,
)
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import ActionRejected, PeerReviewClient
from tests.helpers import findings, new_worker, refer_triaged
from tests.helpers.staff import (
    AUDITOR,
    CASEWORKER,
    CHAIR,
    DEPUTY,
    FOCAL,
    OTHER_CHAIR,
    OTHER_REVIEWER,
    REFERRER,
    REVIEWER,
)
from tests.helpers.steps import APPROVE, ASSIGN, CLEAR, CONTENTIOUS_FINDINGS, Step

PEOPLE = {
    "caseworker": CASEWORKER,
    "referrer": REFERRER,
    "chair of this OSN": CHAIR,
    "chair of another OSN": OTHER_CHAIR,
    "deputy": DEPUTY,
    "assigned reviewer": REVIEWER,
    "unassigned reviewer": OTHER_REVIEWER,
    "focal point": FOCAL,
    "auditor": AUDITOR,
    "unknown staff id": "S999",
}
CHAIRS = {"chair of this OSN", "deputy"}
ALLOWED: dict[ActionName, set[str]] = {
    ActionName.APPROVE: CHAIRS,
    ActionName.DECLINE: CHAIRS,
    ActionName.WITHDRAW: CHAIRS | {"referrer"},
    ActionName.ASSIGN_REVIEWER: CHAIRS | {"focal point"},
    ActionName.SUBMIT_FINDINGS: {"assigned reviewer"},
    ActionName.CLEAR: {"focal point"},
    ActionName.SIGN_OFF: CHAIRS,
    ActionName.RETURN_FOR_REWORK: CHAIRS,
    ActionName.ADD_REASON: CHAIRS | {"referrer", "focal point"},
}
# The steps that bring a review to the status where each action is possible.
SETUP: dict[ActionName, list[Step]] = {
    ActionName.APPROVE: [],
    ActionName.DECLINE: [],
    ActionName.WITHDRAW: [],
    ActionName.ADD_REASON: [],
    ActionName.ASSIGN_REVIEWER: [APPROVE],
    ActionName.SUBMIT_FINDINGS: [APPROVE, ASSIGN],
}
SETUP[ActionName.CLEAR] = [*SETUP[ActionName.SUBMIT_FINDINGS], CONTENTIOUS_FINDINGS]
SETUP[ActionName.SIGN_OFF] = [*SETUP[ActionName.CLEAR], CLEAR]
SETUP[ActionName.RETURN_FOR_REWORK] = SETUP[ActionName.SIGN_OFF]


def payload(action: ActionName, actor: str) -> ActionPayload:
    if action is ActionName.ASSIGN_REVIEWER:
        return ReviewerAssignment(actor=actor, reviewer="S401")
    if action is ActionName.SUBMIT_FINDINGS:
        return FindingsSubmission(actor=actor, findings=findings())
    if action is ActionName.RETURN_FOR_REWORK:
        return Rework(actor=actor, reason="More detail")
    if action is ActionName.WITHDRAW:
        return Withdrawal(actor=actor, reason="No longer needed")
    if action is ActionName.ADD_REASON:
        return ReasonAddition(actor=actor, reason=Reason.PERSISTENT_OR_VEXATIOUS, detail="Wrote again today")
    return Decision(actor=actor, rationale="Because")


async def review_ready_for(reviews: PeerReviewClient, action: ActionName) -> str:
    ref = await refer_triaged(reviews, "complex-issue")
    for step, step_payload in SETUP[action]:
        await reviews.act(ref, step, step_payload)
    return ref


@pytest.mark.parametrize("action", list(ActionName), ids=[a.value for a in ActionName])
async def test_every_action_against_every_person(
    action: ActionName, client: Client, settings: Settings, store: RecordsStore
) -> None:
    reviews = PeerReviewClient(client, settings)
    async with new_worker(client, settings, store):
        shared = await review_ready_for(reviews, action)
        before = await reviews.status(shared)
        outcomes: dict[str, str] = {}
        for person, staff_id in PEOPLE.items():
            if person in ALLOWED[action]:
                ref = await review_ready_for(reviews, action)
                view = await reviews.act(ref, action, payload(action, staff_id))
                # Rework returns to a status seen before; a reason is added where the review stands.
                changed = view.status is not before.status or view.reasons != before.reasons
                assert changed, (person, action)
                outcomes[person] = "done"
                continue
            with pytest.raises(ActionRejected) as refused:
                await reviews.act(shared, action, payload(action, staff_id))
            assert refused.value.kind is RejectionKind.NOT_PERMITTED, (person, str(refused.value))
            assert refused.value.exit_code == 3 and str(refused.value).startswith("only the")
            assert await reviews.status(shared) == before  # a refusal changes nothing
            outcomes[person] = "refused"
        assert {p for p, o in outcomes.items() if o == "done"} == ALLOWED[action]
        trail = await reviews.audit_trail(shared)
        refusals = [e for e in trail if e.action == f"{action.value}_rejected"]
        assert len(refusals) == len(PEOPLE) - len(ALLOWED[action])  # every refusal is in the audit trail
        assert all(e.from_status is before.status and e.to_status is before.status for e in refusals)
