"""Each action's update takes the request type and gives the view type that the method performing it declares."""

from __future__ import annotations

import typing

import pytest
from temporalio.workflow import _Definition

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import (
    Decision,
    FindingsSubmission,
    ReasonAddition,
    RecommendationAct,
    RecommendationView,
    ReviewerAssignment,
    Rework,
    StatusView,
    Withdrawal,
)
from peer_review.domain.recommendations import RecommendationAction
from workflows.peer_review import PeerReviewWorkflow
from workflows.recommendation import RecommendationWorkflow

REVIEW_REQUESTS: dict[ActionName, type] = {
    ActionName.APPROVE: Decision,
    ActionName.DECLINE: Decision,
    ActionName.ASSIGN_REVIEWER: ReviewerAssignment,
    ActionName.SUBMIT_FINDINGS: FindingsSubmission,
    ActionName.CLEAR: Decision,
    ActionName.SIGN_OFF: Decision,
    ActionName.RETURN_FOR_REWORK: Rework,
    ActionName.WITHDRAW: Withdrawal,
    ActionName.ADD_REASON: ReasonAddition,
}
CASES = [(PeerReviewWorkflow, str(action), request, StatusView) for action, request in REVIEW_REQUESTS.items()] + [
    (RecommendationWorkflow, str(action), RecommendationAct, RecommendationView) for action in RecommendationAction
]


@pytest.mark.parametrize(("workflow_class", "name", "request_type", "view_type"), CASES)
def test_the_update_is_typed_as_its_action(
    workflow_class: type, name: str, request_type: type, view_type: type
) -> None:
    update = _Definition.must_from_class(workflow_class).updates[name]
    assert typing.get_type_hints(update.fn) == {"request": request_type, "return": view_type}
    assert update.arg_types == [request_type]
    assert update.validator is not None


def test_every_action_has_its_update() -> None:
    assert set(_Definition.must_from_class(PeerReviewWorkflow).updates) == {str(a) for a in REVIEW_REQUESTS}
    assert set(_Definition.must_from_class(RecommendationWorkflow).updates) == {str(a) for a in RecommendationAction}
