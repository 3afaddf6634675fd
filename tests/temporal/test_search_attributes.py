"""search_attributes.agrees: when a recorded view is the workflow's current one, as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from peer_review.domain.models import Deadline, Reason, Status, StatusView
from peer_review.temporal import search_attributes as sa

DUE = datetime(2026, 12, 4, 17, 0, 0, 123000, tzinfo=UTC)
REASONS = [Reason.COMPLEX_ISSUE, Reason.PERSISTENT_OR_VEXATIOUS]
VIEW = StatusView(
    referral_id="PR-1",
    status=Status.AWAITING_CHAIR_DECISION,
    stage="chair decision",
    outcome=None,
    mandatory=False,
    osn="north-east",
    priority=None,
    chair="S100",
    reviewer=None,
    deadlines=[Deadline(status=Status.AWAITING_CHAIR_DECISION, due_at=DUE)],
    reasons=REASONS,
)
PUBLISHED: dict[str, Any] = {
    "status": Status.AWAITING_CHAIR_DECISION.value,
    "reasons": [r.value for r in reversed(REASONS)],
    "due": DUE,
    "overdue": False,
}


def published(**changes: Any) -> TypedSearchAttributes:
    values = {**PUBLISHED, **changes}
    keys: dict[str, SearchAttributeKey[Any]] = {
        "status": sa.STATUS,
        "reasons": sa.REASONS,
        "due": sa.DUE_AT,
        "overdue": sa.OVERDUE,
    }
    return TypedSearchAttributes(
        [SearchAttributePair(keys[name], value) for name, value in values.items() if value is not None]
    )


@pytest.mark.parametrize(
    ("attributes", "view", "agrees"),
    [
        (published(), VIEW, True),
        (published(status=Status.AWAITING_REVIEWER.value), VIEW, False),
        (published(reasons=[Reason.COMPLEX_ISSUE.value]), VIEW, False),
        (published(due=DUE + timedelta(days=3)), VIEW, False),
        (published(due=None), VIEW, False),
        (published(overdue=True), VIEW, False),
        (published(overdue=True), VIEW.model_copy(update={"overdue": True}), True),
        (published(overdue=None), VIEW, True),
        (published(status=Status.CLOSED.value, due=None), VIEW.model_copy(update={"status": Status.CLOSED}), False),
        (
            published(status=Status.CLOSED.value, due=None),
            VIEW.model_copy(update={"status": Status.CLOSED, "deadlines": []}),
            True,
        ),
    ],
    ids=[
        "all four agree",
        "the workflow moved on",
        "a reason was added",
        "a new deadline",
        "no deadline any more",
        "now overdue",
        "overdue in both",
        "no flag published yet",
        "closed, but the record still has a deadline",
        "closed in both",
    ],
)
def test_a_recorded_view_agrees_only_when_status_reasons_deadline_and_overdue_all_match(
    attributes: TypedSearchAttributes, view: StatusView, agrees: bool
) -> None:
    assert sa.agrees(attributes, view) is agrees
