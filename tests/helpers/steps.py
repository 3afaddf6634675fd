"""The human steps of a review as the tests take them: each action with a typical payload, by the example staff."""

from __future__ import annotations

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import ActionPayload, Decision, FindingsSubmission, ReviewerAssignment, Rework
from tests.helpers.factories import findings
from tests.helpers.staff import CHAIR, FOCAL, REVIEWER

Step = tuple[ActionName, ActionPayload]

APPROVE: Step = (ActionName.APPROVE, Decision(actor=CHAIR, rationale="Appropriate"))
ASSIGN: Step = (ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=CHAIR, reviewer=REVIEWER))
FINDINGS: Step = (ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings()))
CONTENTIOUS_FINDINGS: Step = (
    ActionName.SUBMIT_FINDINGS,
    FindingsSubmission(actor=REVIEWER, findings=findings(contentious=True)),
)
CLEAR: Step = (ActionName.CLEAR, Decision(actor=FOCAL))
REWORK: Step = (ActionName.RETURN_FOR_REWORK, Rework(actor=CHAIR, reason="More detail"))
SIGN_OFF: Step = (ActionName.SIGN_OFF, Decision(actor=CHAIR))
