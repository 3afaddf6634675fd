"""Separation of duties (issue 14), as a table: every action x every overlap of relations x whether the Chair
stands aside. Nobody signs off, returns or clears findings they wrote; a referrer never decides, reviews or signs
off their own referral; a Chair or deputy who reviewed or referred is replaced by another, or by the Focal Point."""

from __future__ import annotations

from itertools import combinations, product

import pytest

from peer_review.domain.lifecycle import (
    RULES,
    SEPARATION_OF_DUTIES,
    ActionName,
    Rejection,
    RejectionKind,
    Relation,
    after_reason_added,
    chair_stands_aside,
    check_action,
    check_reviewer_is_independent,
    may_read_local_feedback,
)
from peer_review.domain.models import Role, Staff, Status
from tests.helpers import example_contacts, make_referral
from tests.helpers.staff import CHAIR, DEPUTY, FOCAL, REFERRER, REVIEWER

A = ActionName
R = Relation

# Written out from the issue, independently of the module's table: what bars whom from what ...
BARRED: dict[ActionName, dict[Relation, str]] = {
    A.APPROVE: {R.REFERRER: "referrer never decides"},
    A.DECLINE: {R.REFERRER: "referrer never decides"},
    A.SUBMIT_FINDINGS: {R.REFERRER: "referrer never reviews"},
    A.CLEAR: {R.ASSIGNED_REVIEWER: "nobody clears findings they wrote"},
    A.SIGN_OFF: {
        R.ASSIGNED_REVIEWER: "nobody signs off findings they wrote",
        R.REFERRER: "referrer never signs off",
    },
    A.RETURN_FOR_REWORK: {R.ASSIGNED_REVIEWER: "nobody returns findings they wrote"},
}
# ... and who stands in for a Chair or deputy who stands aside.
STANDS_IN: dict[ActionName, frozenset[Relation]] = {
    A.APPROVE: frozenset({R.FOCAL_POINT}),
    A.DECLINE: frozenset({R.FOCAL_POINT}),
    A.SIGN_OFF: frozenset({R.FOCAL_POINT}),
    A.RETURN_FOR_REWORK: frozenset({R.FOCAL_POINT}),
}

EVERY_OVERLAP = [frozenset(combo) for size in range(len(R) + 1) for combo in combinations(list(R), size)]
CASES = list(product(ActionName, EVERY_OVERLAP, (False, True)))


def outcome(action: ActionName, relations: frozenset[Relation], chair_aside: bool) -> Rejection | None:
    status = sorted(RULES[action].from_statuses)[0]
    try:
        check_action(
            action,
            status=status,
            relations=relations,
            mandatory=False,
            findings_submitted=False,
            chair_aside=chair_aside,
        )
    except Rejection as refused:
        return refused
    return None


def test_the_table_covers_every_action() -> None:
    assert set(SEPARATION_OF_DUTIES) == set(ActionName)


@pytest.mark.parametrize(
    ("action", "relations", "chair_aside"),
    CASES,
    ids=[f"{a.value}-{'+'.join(sorted(r)) or 'nobody'}-{'aside' if c else 'present'}" for a, r, c in CASES],
)
def test_every_action_for_every_overlap_of_relations(
    action: ActionName, relations: frozenset[Relation], chair_aside: bool
) -> None:
    entitled = relations & RULES[action].who or (chair_aside and relations & STANDS_IN.get(action, frozenset()))
    barred = [why for relation, why in BARRED.get(action, {}).items() if relation in relations]
    refused = outcome(action, relations, chair_aside)
    if entitled and not barred:
        assert refused is None
        return
    assert refused is not None
    assert refused.kind is RejectionKind.NOT_PERMITTED  # the refusal says why, and is audited like any other
    if entitled:
        assert refused.reason.startswith("separation of duties: ")
        assert any(why in refused.reason for why in barred)
    else:
        assert refused.reason.startswith("only the ")


def test_a_deputy_who_reviewed_cannot_sign_off_but_the_chair_or_focal_point_can() -> None:
    deputy_reviewer = frozenset({R.DEPUTY, R.ASSIGNED_REVIEWER})
    for action in (A.SIGN_OFF, A.RETURN_FOR_REWORK):
        refused = outcome(action, deputy_reviewer, chair_aside=True)
        assert refused is not None and "they wrote" in refused.reason
        assert outcome(action, frozenset({R.CHAIR}), chair_aside=True) is None
        assert outcome(action, frozenset({R.FOCAL_POINT}), chair_aside=True) is None
    refused = outcome(A.CLEAR, frozenset({R.FOCAL_POINT, R.ASSIGNED_REVIEWER}), chair_aside=False)
    assert refused is not None and "clears findings they wrote" in refused.reason


def test_the_focal_point_stands_in_only_when_the_chair_stands_aside() -> None:
    refused = outcome(A.SIGN_OFF, frozenset({R.FOCAL_POINT}), chair_aside=False)
    assert refused is not None and refused.reason.startswith("only the chair or deputy")


@pytest.mark.parametrize(
    ("chair", "referrer", "reviewer", "aside"),
    [
        (CHAIR, REFERRER, REVIEWER, False),  # nobody on the Chair's side is involved
        (CHAIR, REFERRER, None, False),
        (None, REFERRER, REVIEWER, True),  # no Chair listed: the Focal Point must be able to act
        (CHAIR, CHAIR, REVIEWER, True),  # the Chair referred
        (CHAIR, DEPUTY, REVIEWER, True),  # a deputy referred
        (CHAIR, REFERRER, DEPUTY, True),  # a deputy reviews
        (CHAIR, REFERRER, CHAIR, True),  # the Chair reviews
        (CHAIR, REFERRER, FOCAL, False),
    ],
)
def test_when_the_chair_stands_aside(chair: str | None, referrer: str, reviewer: str | None, aside: bool) -> None:
    contacts = example_contacts().model_copy(update={"chair": chair})
    assert chair_stands_aside(make_referral("persistent", referred_by=referrer), contacts, reviewer) is aside


def test_a_referrer_is_never_assigned_to_review_their_own_referral() -> None:
    referral = make_referral("persistent", referred_by=DEPUTY)
    with pytest.raises(Rejection) as caught:
        check_reviewer_is_independent(DEPUTY, referral)
    assert caught.value.kind is RejectionKind.INVALID_INPUT
    assert caught.value.reason == "reviewer: separation of duties: a referrer never reviews their own referral"
    check_reviewer_is_independent(REVIEWER, referral)


@pytest.mark.parametrize("status", sorted(RULES[A.ADD_REASON].from_statuses))
@pytest.mark.parametrize(("was", "now"), [(False, False), (False, True), (True, True)])
def test_a_review_made_mandatory_skips_only_a_pending_chair_decision(status: Status, was: bool, now: bool) -> None:
    moved = after_reason_added(status, was_mandatory=was, now_mandatory=now)
    expected = Status.AWAITING_REVIEWER if (now and not was and status is Status.AWAITING_CHAIR_DECISION) else None
    assert moved is expected


def person(staff_id: str, *roles: Role) -> Staff:
    return Staff(
        id=staff_id, name="Some One", email=f"{staff_id.lower()}@example.gov.uk", site="York", osn="x", roles=[*roles]
    )


@pytest.mark.parametrize(
    ("reader", "may"),
    [
        (person(REFERRER, Role.CASEWORKER), True),
        (person("S302", Role.CASEWORKER), True),  # a contact of the site's team
        (person(REVIEWER, Role.REVIEWER), True),
        (person(CHAIR, Role.OSN_CHAIR), True),
        (person("S500", Role.AUDITOR), True),
        (person(FOCAL, Role.FOCAL_POINT), True),
        (person("S401", Role.REVIEWER), False),  # a reviewer of other reviews
        (person("S110", Role.OSN_CHAIR), False),  # the Chair of another OSN
        (person("S999", Role.CASEWORKER), False),
    ],
)
def test_who_may_read_local_feedback(reader: Staff, may: bool) -> None:
    allowed = may_read_local_feedback(
        reader,
        referral=make_referral("persistent"),
        reviewer=REVIEWER,
        chair_side=[CHAIR, DEPUTY],
        local_contacts=["S302"],
    )
    assert allowed is may
