"""Who may place and release a legal hold (peer_review.domain.lifecycle.RECORD_RULES), as a table over every role."""

from __future__ import annotations

import pytest

from peer_review.domain.lifecycle import RECORD_RULES, RecordAction, Rejection, RejectionKind, check_record_action
from peer_review.domain.models import Role

MAY_HOLD_AND_RELEASE = {Role.FOCAL_POINT, Role.AUDITOR}

TABLE = [(action, role, role in MAY_HOLD_AND_RELEASE) for action in RecordAction for role in Role]


@pytest.mark.parametrize(("action", "role", "allowed"), TABLE, ids=[f"{a.value}-{r.value}" for a, r, _ in TABLE])
def test_only_the_focal_point_and_auditors_hold_and_release(action: RecordAction, role: Role, allowed: bool) -> None:
    if allowed:
        check_record_action(action, "S1", [role])
        return
    with pytest.raises(Rejection) as refused:
        check_record_action(action, "S1", [role])
    assert refused.value.kind is RejectionKind.NOT_PERMITTED
    expected = f"only the auditor or focal point may {action.value} a review's record; S1 is neither"
    assert refused.value.reason == expected


def test_the_table_covers_every_record_action_and_one_allowed_role_suffices() -> None:
    assert set(RECORD_RULES) == set(RecordAction)
    assert all(rule == MAY_HOLD_AND_RELEASE for rule in RECORD_RULES.values())
    check_record_action(RecordAction.HOLD, "S1", [Role.REVIEWER, Role.AUDITOR])
    with pytest.raises(Rejection):
        check_record_action(RecordAction.RELEASE, "S1", [])
