"""The transition table and who may do what (DESIGN §3), checked by table and by random walks."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peer_review.domain.lifecycle import (
    RULES,
    STAGES,
    WAITING_STATUSES,
    ActionName,
    Rejection,
    RejectionKind,
    Relation,
    check_action,
    check_reviewer,
    next_status,
    relations_of,
    stage_of,
)
from peer_review.domain.models import Outcome, Role, Staff, Status
from tests.helpers import PROPERTY, example_contacts, make_referral
from tests.helpers.staff import CHAIR, DEPUTY, FOCAL, REFERRER, REVIEWER

A = ActionName
R = Relation

# Who may take each action, written out from DESIGN §3 (a deputy may act for the Chair).
WHO_MAY: dict[ActionName, frozenset[Relation]] = {
    A.APPROVE: frozenset({R.CHAIR, R.DEPUTY}),
    A.DECLINE: frozenset({R.CHAIR, R.DEPUTY}),
    A.ASSIGN_REVIEWER: frozenset({R.CHAIR, R.DEPUTY, R.FOCAL_POINT}),
    A.SUBMIT_FINDINGS: frozenset({R.ASSIGNED_REVIEWER}),
    A.CLEAR: frozenset({R.FOCAL_POINT}),
    A.SIGN_OFF: frozenset({R.CHAIR, R.DEPUTY}),
    A.RETURN_FOR_REWORK: frozenset({R.CHAIR, R.DEPUTY}),
    A.WITHDRAW: frozenset({R.REFERRER, R.CHAIR, R.DEPUTY}),
    A.ADD_REASON: frozenset({R.REFERRER, R.CHAIR, R.DEPUTY, R.FOCAL_POINT}),
}

# Where each action may be taken from and where it leads (DESIGN §3 diagram).
FROM_TO: dict[ActionName, tuple[set[Status], Status | None, Outcome | None]] = {
    A.APPROVE: ({Status.AWAITING_CHAIR_DECISION}, Status.AWAITING_REVIEWER, None),
    A.DECLINE: ({Status.AWAITING_CHAIR_DECISION}, Status.CLOSED, Outcome.DECLINED),
    A.ASSIGN_REVIEWER: ({Status.AWAITING_REVIEWER}, Status.UNDER_REVIEW, None),
    A.SUBMIT_FINDINGS: ({Status.UNDER_REVIEW}, Status.AWAITING_SIGN_OFF, None),
    A.CLEAR: ({Status.AWAITING_LEGAL_CLEARANCE}, Status.AWAITING_SIGN_OFF, None),
    A.SIGN_OFF: ({Status.AWAITING_SIGN_OFF}, Status.CLOSED, Outcome.COMPLETED),
    A.RETURN_FOR_REWORK: ({Status.AWAITING_SIGN_OFF}, Status.UNDER_REVIEW, None),
    A.WITHDRAW: (
        {Status.AWAITING_CHAIR_DECISION, Status.AWAITING_REVIEWER, Status.UNDER_REVIEW},
        Status.CLOSED,
        Outcome.WITHDRAWN,
    ),
    # A reason may be added at any time until closure; the review stays where it is.
    A.ADD_REASON: (
        {
            Status.AWAITING_CHAIR_DECISION,
            Status.AWAITING_REVIEWER,
            Status.UNDER_REVIEW,
            Status.AWAITING_LEGAL_CLEARANCE,
            Status.AWAITING_SIGN_OFF,
        },
        None,
        None,
    ),
}

# Separation of duties, written out from issue 14: the relations that bar a person from an action.
BARRED: dict[ActionName, frozenset[Relation]] = {
    A.APPROVE: frozenset({R.REFERRER}),
    A.DECLINE: frozenset({R.REFERRER}),
    A.SUBMIT_FINDINGS: frozenset({R.REFERRER}),
    A.CLEAR: frozenset({R.ASSIGNED_REVIEWER}),
    A.SIGN_OFF: frozenset({R.ASSIGNED_REVIEWER, R.REFERRER}),
    A.RETURN_FOR_REWORK: frozenset({R.ASSIGNED_REVIEWER}),
}

ALL_RELATION_SETS: list[frozenset[Relation]] = [
    frozenset(combo) for size in range(len(R) + 1) for combo in combinations(list(R), size)
]


def refusal(
    action: ActionName,
    *,
    status: Status,
    relations: frozenset[Relation],
    mandatory: bool = False,
    findings_submitted: bool = False,
) -> Rejection | None:
    """What check_action refuses in this situation, or None when it allows the action."""
    try:
        check_action(
            action, status=status, relations=relations, mandatory=mandatory, findings_submitted=findings_submitted
        )
    except Rejection as refused:
        return refused
    return None


def allowed(action: ActionName, **situation: Any) -> bool:
    return refusal(action, **situation) is None


def rejection(action: ActionName, **situation: Any) -> Rejection:
    refused = refusal(action, **situation)
    assert refused is not None, f"{action} was allowed in {situation}"
    return refused


def a_from_status(action: ActionName) -> Status:
    return sorted(FROM_TO[action][0])[0]


# --- The table itself -----------------------------------------------------------------------------


def test_rules_cover_every_action() -> None:
    assert set(RULES) == set(ActionName)


@pytest.mark.parametrize("action", list(ActionName))
def test_rules_match_the_design(action: ActionName) -> None:
    from_statuses, to_status, outcome = FROM_TO[action]
    rule = RULES[action]
    assert rule.from_statuses == from_statuses
    assert rule.to_status is to_status
    assert rule.outcome is outcome
    assert rule.who == WHO_MAY[action]


@pytest.mark.parametrize("action", list(ActionName))
def test_an_action_leads_to_closed_exactly_when_it_has_an_outcome(action: ActionName) -> None:
    to_status, outcome = next_status(action)
    assert (to_status is Status.CLOSED) == (outcome is not None)


def test_only_adding_a_reason_leaves_the_status_as_it_is() -> None:
    assert [a for a in ActionName if next_status(a)[0] is None] == [A.ADD_REASON]


@pytest.mark.parametrize("action", list(ActionName))
def test_no_action_starts_from_closed_or_before_triage(action: ActionName) -> None:
    assert not RULES[action].from_statuses & {Status.CLOSED, Status.REFERRED, Status.TRIAGE}
    assert RULES[action].from_statuses <= WAITING_STATUSES


def test_every_status_has_a_stage() -> None:
    assert set(STAGES) == set(Status)
    assert stage_of(Status.REFERRED) == "referral"
    assert stage_of(Status.TRIAGE) == "triage"
    assert stage_of(Status.AWAITING_CHAIR_DECISION) == "chair decision"
    assert stage_of(Status.CLOSED) == "closure"
    for status in (
        Status.AWAITING_REVIEWER,
        Status.UNDER_REVIEW,
        Status.AWAITING_LEGAL_CLEARANCE,
        Status.AWAITING_SIGN_OFF,
    ):
        assert stage_of(status) == "review"


def test_waiting_statuses_are_those_with_a_person_to_act() -> None:
    assert Status.CLOSED not in WAITING_STATUSES
    assert Status.REFERRED not in WAITING_STATUSES and Status.TRIAGE not in WAITING_STATUSES


# --- next_status ----------------------------------------------------------------------------------


def test_contentious_findings_go_to_legal_clearance() -> None:
    assert next_status(A.SUBMIT_FINDINGS, contentious=True) == (
        Status.AWAITING_LEGAL_CLEARANCE,
        None,
    )
    assert next_status(A.SUBMIT_FINDINGS, contentious=False) == (Status.AWAITING_SIGN_OFF, None)


@pytest.mark.parametrize("action", [a for a in ActionName if a is not A.SUBMIT_FINDINGS])
def test_contentious_flag_only_affects_findings(action: ActionName) -> None:
    assert next_status(action, contentious=True) == next_status(action, contentious=False)


# --- Who may do what: every action x every relation -----------------------------------------------


@pytest.mark.parametrize("relation", list(Relation))
@pytest.mark.parametrize("action", list(ActionName))
def test_who_may_take_each_action(action: ActionName, relation: Relation) -> None:
    status = a_from_status(action)
    relations = frozenset({relation})
    if relation in WHO_MAY[action]:
        check_action(action, status=status, relations=relations, mandatory=False, findings_submitted=False)
    else:
        refused = rejection(action, status=status, relations=relations)
        assert refused.kind is RejectionKind.NOT_PERMITTED
        assert action.value in refused.reason


@pytest.mark.parametrize("action", list(ActionName))
def test_a_stranger_may_do_nothing(action: ActionName) -> None:
    for status in Status:
        refused = rejection(action, status=status, relations=frozenset())
        assert refused.kind is RejectionKind.NOT_PERMITTED


@pytest.mark.parametrize("action", list(ActionName))
def test_right_person_at_the_wrong_time_is_an_invalid_state(action: ActionName) -> None:
    for status in set(Status) - FROM_TO[action][0]:
        refused = rejection(action, status=status, relations=WHO_MAY[action])
        assert refused.kind is RejectionKind.INVALID_STATE
        assert status.value in refused.reason


@pytest.mark.parametrize("action", [A.DECLINE, A.WITHDRAW])
def test_mandatory_review_cannot_be_declined_or_withdrawn(action: ActionName) -> None:
    for status in Status:
        refused = rejection(action, status=status, relations=WHO_MAY[action], mandatory=True)
        assert refused.kind is RejectionKind.INVALID_STATE
        assert "mandatory" in refused.reason


@pytest.mark.parametrize("status", sorted(FROM_TO[A.WITHDRAW][0]))
def test_withdraw_is_refused_once_findings_exist(status: Status) -> None:
    refused = rejection(A.WITHDRAW, status=status, relations=frozenset(R), findings_submitted=True)
    assert refused.kind is RejectionKind.INVALID_STATE
    assert "findings" in refused.reason


@pytest.mark.parametrize("action", list(ActionName))
def test_check_action_is_exactly_the_specification(action: ActionName) -> None:
    """Every status x set of relations x mandatory x findings: accepted iff the design says so."""
    for status, relations, mandatory, findings_submitted in product(
        Status, ALL_RELATION_SETS, (False, True), (False, True)
    ):
        expected = (
            bool(relations & WHO_MAY[action])
            and not relations & BARRED.get(action, frozenset())
            and status in FROM_TO[action][0]
            and not (mandatory and action in (A.DECLINE, A.WITHDRAW))
            and not (action is A.WITHDRAW and findings_submitted)
        )
        actual = allowed(
            action,
            status=status,
            relations=relations,
            mandatory=mandatory,
            findings_submitted=findings_submitted,
        )
        assert actual == expected, (
            action,
            status,
            sorted(relations),
            mandatory,
            findings_submitted,
        )


# --- Random walks through the lifecycle -----------------------------------------------------------


@dataclass
class Review:
    """The lifecycle state the workflow keeps, driven only through check_action and next_status."""

    mandatory: bool
    status: Status
    outcome: Outcome | None = None
    findings_submitted: bool = False
    closed_count: int = 0
    history: list[tuple[ActionName, Status, Status]] = field(default_factory=list)

    @classmethod
    def after_triage(cls, mandatory: bool) -> Review:
        start = Status.AWAITING_REVIEWER if mandatory else Status.AWAITING_CHAIR_DECISION
        return cls(mandatory=mandatory, status=start)

    def attempt(self, action: ActionName, relations: frozenset[Relation], contentious: bool) -> bool:
        try:
            check_action(
                action,
                status=self.status,
                relations=relations,
                mandatory=self.mandatory,
                findings_submitted=self.findings_submitted,
            )
        except Rejection:
            return False
        moved_to, outcome = next_status(action, contentious=contentious)
        to_status = moved_to or self.status
        self.history.append((action, self.status, to_status))
        self.status, self.outcome = to_status, outcome
        if action is A.SUBMIT_FINDINGS:
            self.findings_submitted = True
        if to_status is Status.CLOSED:
            self.closed_count += 1
        return True


Step = tuple[ActionName, frozenset[Relation], bool]

blind_steps = st.lists(
    st.tuples(
        st.sampled_from(list(ActionName)),
        st.frozensets(st.sampled_from(list(Relation))),
        st.booleans(),
    ),
    min_size=1,
    max_size=30,
)


@dataclass(frozen=True)
class Intent:
    """A step drawn up front and resolved against the review's status when it is taken."""

    fit: bool  # pick an action that fits the current status, when there is one
    pick: int
    entitled: bool  # taken by exactly the people entitled to it
    relations: frozenset[Relation]
    contentious: bool

    def resolve(self, review: Review) -> Step:
        fitting = [a for a in ActionName if review.status in RULES[a].from_statuses]
        choices = fitting if self.fit and fitting else list(ActionName)
        action = choices[self.pick % len(choices)]
        return action, WHO_MAY[action] if self.entitled else self.relations, self.contentious


guided_steps = st.lists(
    st.builds(
        Intent,
        fit=st.sampled_from([True, True, True, True, False]),
        pick=st.integers(0, len(ActionName) - 1),
        entitled=st.sampled_from([True, True, True, False]),
        relations=st.frozensets(st.sampled_from(list(Relation))),
        contentious=st.booleans(),
    ),
    min_size=8,
    max_size=40,
)


def step_and_check(review: Review, action: ActionName, relations: frozenset[Relation], contentious: bool) -> None:
    """Take one step and check every invariant the design promises about it."""
    was_closed = review.status is Status.CLOSED
    before = (review.status, review.outcome, review.findings_submitted)
    findings_before = review.findings_submitted
    if not review.attempt(action, relations, contentious):
        assert (review.status, review.outcome, review.findings_submitted) == before
        return
    _, from_status, to_status = review.history[-1]
    assert from_status in RULES[action].from_statuses
    assert not was_closed, f"{action} accepted on a closed review"
    assert relations & RULES[action].who
    assert not relations & BARRED.get(action, frozenset())
    if review.mandatory:
        assert action not in (A.DECLINE, A.WITHDRAW)
        assert from_status is not Status.AWAITING_CHAIR_DECISION
    if action is A.WITHDRAW:
        assert not findings_before
    assert (to_status is Status.CLOSED) == (review.outcome is not None)
    if review.outcome is Outcome.COMPLETED:
        assert review.findings_submitted
    assert review.closed_count <= 1


def assert_closed_is_final(review: Review) -> None:
    if review.status is not Status.CLOSED:
        return
    for action in ActionName:
        for relations in ALL_RELATION_SETS:
            assert not allowed(
                action,
                status=review.status,
                relations=relations,
                mandatory=review.mandatory,
                findings_submitted=review.findings_submitted,
            )


@PROPERTY
@given(mandatory=st.booleans(), path=blind_steps)
def test_blind_random_walks_keep_the_lifecycle_rules(mandatory: bool, path: list[Step]) -> None:
    review = Review.after_triage(mandatory)
    for action, relations, contentious in path:
        step_and_check(review, action, relations, contentious)
    assert_closed_is_final(review)


@PROPERTY
@given(mandatory=st.booleans(), path=guided_steps)
def test_guided_random_walks_keep_the_lifecycle_rules(mandatory: bool, path: list[Intent]) -> None:
    review = Review.after_triage(mandatory)
    for intent in path:
        step_and_check(review, *intent.resolve(review))
    assert_closed_is_final(review)


@PROPERTY
@given(path=guided_steps)
def test_mandatory_review_only_closes_by_sign_off(path: list[Intent]) -> None:
    review = Review.after_triage(mandatory=True)
    for intent in path:
        review.attempt(*intent.resolve(review))
    assert review.outcome in (None, Outcome.COMPLETED)
    assert all(action not in (A.DECLINE, A.WITHDRAW) for action, _, _ in review.history)
    assert Status.AWAITING_CHAIR_DECISION not in {frm for _, frm, _ in review.history}


@PROPERTY
@given(path=guided_steps)
def test_withdraw_never_succeeds_after_findings(path: list[Intent]) -> None:
    review = Review.after_triage(mandatory=False)
    for intent in path:
        action, relations, contentious = intent.resolve(review)
        findings_before = review.findings_submitted
        if review.attempt(action, relations, contentious) and action is A.WITHDRAW:
            assert not findings_before


def test_the_happy_paths_are_reachable() -> None:
    chair, reviewer, focal = (
        frozenset({R.CHAIR}),
        frozenset({R.ASSIGNED_REVIEWER}),
        frozenset({R.FOCAL_POINT}),
    )
    review = Review.after_triage(mandatory=False)
    for action, who, contentious in [
        (A.APPROVE, chair, False),
        (A.ASSIGN_REVIEWER, focal, False),
        (A.SUBMIT_FINDINGS, reviewer, True),
        (A.CLEAR, focal, False),
        (A.RETURN_FOR_REWORK, chair, False),
        (A.SUBMIT_FINDINGS, reviewer, False),
        (A.SIGN_OFF, chair, False),
    ]:
        assert review.attempt(action, who, contentious), (action, review.status)
    assert (review.status, review.outcome) == (Status.CLOSED, Outcome.COMPLETED)

    mandatory = Review.after_triage(mandatory=True)
    assert not mandatory.attempt(A.APPROVE, chair, False)
    assert mandatory.attempt(A.ASSIGN_REVIEWER, chair, False)


def test_withdraw_after_rework_is_still_refused() -> None:
    review = Review.after_triage(mandatory=False)
    chair, reviewer = frozenset({R.CHAIR}), frozenset({R.ASSIGNED_REVIEWER})
    for action, who in [
        (A.APPROVE, chair),
        (A.ASSIGN_REVIEWER, chair),
        (A.SUBMIT_FINDINGS, reviewer),
        (A.RETURN_FOR_REWORK, chair),
    ]:
        assert review.attempt(action, who, False)
    assert review.status is Status.UNDER_REVIEW
    assert not review.attempt(A.WITHDRAW, frozenset({R.REFERRER, R.CHAIR}), False)


# --- relations_of ---------------------------------------------------------------------------------


def test_relations_of_each_person_in_the_example_directory() -> None:
    referral = make_referral("persistent")
    contacts = example_contacts()

    def of(actor: str, reviewer: str | None = REVIEWER) -> frozenset[Relation]:
        return relations_of(actor, referral=referral, contacts=contacts, reviewer=reviewer)

    assert of(CHAIR) == {R.CHAIR}
    assert of(DEPUTY) == {R.DEPUTY}
    assert of(FOCAL) == {R.FOCAL_POINT}
    assert of(REFERRER) == {R.REFERRER}
    assert of(REVIEWER) == {R.ASSIGNED_REVIEWER}
    assert of(REVIEWER, reviewer=None) == frozenset()
    assert of("S999") == frozenset()
    assert of("") == frozenset()


def test_an_unknown_referrer_is_not_the_referrer() -> None:
    referral = make_referral("persistent")
    relations = relations_of(
        REFERRER,
        referral=referral,
        contacts=example_contacts(referrer_known=False),
        reviewer=None,
    )
    assert relations == frozenset()


def test_relations_accumulate_when_one_person_holds_several() -> None:
    referral = make_referral("persistent", referred_by=CHAIR)
    contacts = example_contacts().model_copy(update={"focal_points": [FOCAL, CHAIR]})
    relations = relations_of(CHAIR, referral=referral, contacts=contacts, reviewer=CHAIR)
    assert relations == {R.REFERRER, R.CHAIR, R.FOCAL_POINT, R.ASSIGNED_REVIEWER}


def test_no_chair_means_nobody_is_chair() -> None:
    referral = make_referral("persistent")
    contacts = example_contacts().model_copy(update={"chair": None})
    for actor in (CHAIR, DEPUTY, FOCAL, REFERRER, "None", ""):
        relations = relations_of(actor, referral=referral, contacts=contacts, reviewer=None)
        assert R.CHAIR not in relations


@PROPERTY
@given(actor=st.from_regex(r"[A-Za-z0-9._-]{1,10}", fullmatch=True))
def test_relations_of_are_exact_matches(actor: str) -> None:
    referral = make_referral("persistent")
    relations = relations_of(actor, referral=referral, contacts=example_contacts(), reviewer=REVIEWER)
    assert (R.CHAIR in relations) == (actor == CHAIR)
    assert (R.DEPUTY in relations) == (actor == DEPUTY)
    assert (R.FOCAL_POINT in relations) == (actor == FOCAL)
    assert (R.REFERRER in relations) == (actor == REFERRER)
    assert (R.ASSIGNED_REVIEWER in relations) == (actor == REVIEWER)


# --- check_reviewer -------------------------------------------------------------------------------


def staff(staff_id: str, *, site: str, roles: list[Role]) -> Staff:
    return Staff(
        id=staff_id,
        name="Some One",
        email=f"{staff_id.lower()}@example.gov.uk",
        site=site,
        osn="south-west",
        roles=roles,
    )


def test_a_peer_from_another_site_may_review() -> None:
    referral = make_referral("persistent")  # handled in Leeds
    check_reviewer(staff(REVIEWER, site="Bristol", roles=[Role.REVIEWER]), REVIEWER, referral)


def test_reviewer_must_be_in_the_directory() -> None:
    with pytest.raises(Rejection) as caught:
        check_reviewer(None, "S999", make_referral("persistent"))
    assert caught.value.kind is RejectionKind.INVALID_INPUT
    assert "S999" in caught.value.reason


def test_reviewer_must_hold_the_reviewer_role() -> None:
    candidate = staff("S402", site="Bristol", roles=[Role.CASEWORKER, Role.OSN_CHAIR])
    with pytest.raises(Rejection) as caught:
        check_reviewer(candidate, "S402", make_referral("persistent"))
    assert caught.value.kind is RejectionKind.INVALID_INPUT
    assert "reviewer role" in caught.value.reason


def test_referrer_cannot_review_their_own_referral() -> None:
    candidate = staff(REFERRER, site="Bristol", roles=[Role.REVIEWER])
    with pytest.raises(Rejection) as caught:
        check_reviewer(candidate, REFERRER, make_referral("persistent"))
    assert caught.value.kind is RejectionKind.INVALID_INPUT
    assert "referrer" in caught.value.reason


@pytest.mark.parametrize("site", ["Leeds", "leeds", "LEEDS"])
def test_reviewer_from_the_site_under_review_is_refused(site: str) -> None:
    candidate = staff("S301", site=site, roles=[Role.REVIEWER])
    with pytest.raises(Rejection) as caught:
        check_reviewer(candidate, "S301", make_referral("persistent"))
    assert caught.value.kind is RejectionKind.INVALID_INPUT
    assert "peer" in caught.value.reason


def test_rejection_carries_its_reason() -> None:
    error = Rejection(RejectionKind.NOT_PERMITTED, "only the chair may approve this review")
    assert str(error) == error.reason == "only the chair may approve this review"
    assert error.kind.value == "NotPermitted"
