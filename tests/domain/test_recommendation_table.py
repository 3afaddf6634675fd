"""The table of actions on a tracked recommendation: who may do what, in which status, and what each requires."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from peer_review.domain.lifecycle import Rejection, RejectionKind
from peer_review.domain.models import RecommendationAct, RecommendationLevel, RecommendationPolicy
from peer_review.domain.models import RecommendationStatus as S
from peer_review.domain.recommendations import STEPS, Party, RecommendationAction, check_step, next_wait, steps_open_to

A, L = RecommendationAction, RecommendationLevel
OWNER, LEAD, CHAIR = Party.OWNER, Party.NATIONAL_LEAD, Party.CHAIR

# Written by hand from the issue: (action, level) -> (statuses it is taken from, who may take it).
EXPECTED = {
    (A.ACCEPT, L.LOCAL): ({S.PROPOSED}, {OWNER}),
    (A.DECLINE, L.LOCAL): ({S.PROPOSED}, {OWNER}),
    (A.START, L.LOCAL): ({S.ACCEPTED}, {OWNER}),
    (A.IMPLEMENT, L.LOCAL): ({S.IN_PROGRESS}, {OWNER}),
    (A.VERIFY, L.LOCAL): ({S.IMPLEMENTED}, {CHAIR}),
    (A.VERIFY, L.NATIONAL): ({S.IMPLEMENTED}, {LEAD}),
    (A.REOPEN, L.LOCAL): ({S.IMPLEMENTED}, {CHAIR, LEAD}),
    (A.REOPEN, L.NATIONAL): ({S.IMPLEMENTED}, {LEAD}),
    (A.REASSIGN, L.LOCAL): ({S.PROPOSED, S.ACCEPTED, S.IN_PROGRESS}, {LEAD}),
}
FULL = RecommendationAct(actor="X", rationale="r", evidence="e", reason="why", owner="T-1")


def expected(action: RecommendationAction, level: RecommendationLevel) -> tuple[set[S], set[Party]]:
    return EXPECTED.get((action, level)) or EXPECTED[(action, L.LOCAL)]


@pytest.mark.parametrize(("action", "level"), list(itertools.product(list(A), list(L))))
def test_exactly_the_table_s_people_in_the_table_s_statuses(
    action: RecommendationAction, level: RecommendationLevel
) -> None:
    statuses, who = expected(action, level)
    for status, party in itertools.product(list(S), list(Party)):
        try:
            check_step(
                action,
                status=status,
                level=level,
                parties=frozenset({party}),
                implemented_by=None,
                actor="X",
                request=FULL,
            )
            allowed = True
        except Rejection:
            allowed = False
        assert allowed == (status in statuses and party in who), (action, level, status, party)


@pytest.mark.parametrize(
    ("action", "status", "field"),
    [
        (A.DECLINE, S.PROPOSED, "rationale"),
        (A.IMPLEMENT, S.IN_PROGRESS, "evidence"),
        (A.REOPEN, S.IMPLEMENTED, "reason"),
        (A.REASSIGN, S.ACCEPTED, "owner"),
    ],
)
def test_a_missing_requirement_is_refused_naming_the_field(action: RecommendationAction, status: S, field: str) -> None:
    who = next(iter(expected(action, L.LOCAL)[1]))
    with pytest.raises(Rejection) as refused:
        check_step(
            action,
            status=status,
            level=L.LOCAL,
            parties=frozenset({who}),
            implemented_by=None,
            actor="X",
            request=RecommendationAct(actor="X"),
        )
    assert refused.value.kind is RejectionKind.INVALID_INPUT and refused.value.reason.startswith(f"{field}: ")


def test_nobody_verifies_what_they_implemented() -> None:
    with pytest.raises(Rejection, match="separation of duties"):
        check_step(
            A.VERIFY,
            status=S.IMPLEMENTED,
            level=L.NATIONAL,
            parties=frozenset({LEAD, OWNER}),
            implemented_by="S600",
            actor="S600",
            request=FULL,
        )


def test_every_action_has_one_row() -> None:
    assert sorted(step.action for step in STEPS) == sorted(A)


def test_deadlines_decide_then_implement_from_acceptance_then_verify() -> None:
    policy = RecommendationPolicy(decide_days=10, implement_days=40, verify_days=10)
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert next_wait(S.PROPOSED, monday, policy, None).due_at == datetime(2026, 3, 16, 9, tzinfo=UTC)  # type: ignore[union-attr]
    accepted = next_wait(S.ACCEPTED, monday, policy, None)
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are bank holidays: 40 working days end 29 April.
    assert accepted is not None and accepted.due_at == datetime(2026, 4, 29, 9, tzinfo=UTC)
    assert next_wait(S.IN_PROGRESS, datetime(2026, 3, 9, tzinfo=UTC), policy, accepted) is accepted
    assert next_wait(S.VERIFIED, monday, policy, accepted) is None


def test_the_register_offers_each_party_only_the_steps_open_to_them() -> None:
    def offered(parties: set[Party], status: S, level: RecommendationLevel) -> list[str]:
        return [step.command for step in steps_open_to(frozenset(parties), status, level)]

    assert offered({Party.OWNER}, S.PROPOSED, RecommendationLevel.LOCAL) == ["accept", "decline"]
    assert offered({Party.CHAIR}, S.PROPOSED, RecommendationLevel.LOCAL) == []
    assert offered({Party.NATIONAL_LEAD}, S.PROPOSED, RecommendationLevel.LOCAL) == ["reassign"]
    assert offered({Party.CHAIR}, S.IMPLEMENTED, RecommendationLevel.LOCAL) == ["verify", "reopen"]
    assert offered({Party.CHAIR}, S.IMPLEMENTED, RecommendationLevel.NATIONAL) == []
    assert offered({Party.NATIONAL_LEAD}, S.IMPLEMENTED, RecommendationLevel.LOCAL) == ["reopen"]
    assert offered({Party.OWNER, Party.NATIONAL_LEAD}, S.VERIFIED, RecommendationLevel.NATIONAL) == []
