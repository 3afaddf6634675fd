"""Triage policy (DESIGN §1): suicide makes a review mandatory; vulnerable customers come first."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peer_review.domain.models import Priority, Reason, Referral
from peer_review.domain.triage import TriageResult, triage
from tests.helpers import PROPERTY, REFERRAL_EXAMPLES, example, referral_with_reasons

reason_sets = st.lists(st.sampled_from(list(Reason)), min_size=1, unique=True)


@pytest.mark.parametrize(
    ("name", "mandatory", "priority"),
    [
        ("referral-suicide.json", True, Priority.HIGH),
        ("referral-additional-needs.json", False, Priority.HIGH),
        ("referral-complex-issue.json", False, Priority.HIGH),
        ("referral-persistent.json", False, Priority.NORMAL),
        ("referral-other.json", False, Priority.NORMAL),
    ],
)
def test_triage_of_each_example(name: str, mandatory: bool, priority: Priority) -> None:
    assert name in REFERRAL_EXAMPLES
    result = triage(Referral.model_validate(example(name)))
    assert result == TriageResult(mandatory=mandatory, priority=priority)


@pytest.mark.parametrize("complaint_made", [True, False])
def test_suicide_is_mandatory_whether_or_not_a_complaint_was_made(complaint_made: bool) -> None:
    result = triage(referral_with_reasons([Reason.SUICIDE], complaint_made=complaint_made))
    assert result.mandatory is True
    assert result.priority is Priority.HIGH


@PROPERTY
@given(reasons=reason_sets, complaint_made=st.booleans(), additional_needs=st.booleans())
def test_suicide_always_means_mandatory_and_high(
    reasons: list[Reason], complaint_made: bool, additional_needs: bool
) -> None:
    referral = referral_with_reasons(
        [Reason.SUICIDE, *(r for r in reasons if r is not Reason.SUICIDE)],
        additional_needs=additional_needs,
        complaint_made=complaint_made,
    )
    assert triage(referral) == TriageResult(mandatory=True, priority=Priority.HIGH)


@PROPERTY
@given(reasons=reason_sets, complaint_made=st.booleans(), additional_needs=st.booleans())
def test_triage_policy_for_any_referral(reasons: list[Reason], complaint_made: bool, additional_needs: bool) -> None:
    referral = referral_with_reasons(reasons, additional_needs=additional_needs, complaint_made=complaint_made)
    result = triage(referral)
    mandatory = Reason.SUICIDE in reasons
    vulnerable = Reason.ADDITIONAL_NEEDS in reasons or additional_needs
    assert result.mandatory is mandatory
    assert result.priority is (Priority.HIGH if mandatory or vulnerable else Priority.NORMAL)


def test_customer_flag_alone_makes_priority_high() -> None:
    result = triage(referral_with_reasons([Reason.PERSISTENT_OR_VEXATIOUS], additional_needs=True))
    assert result == TriageResult(mandatory=False, priority=Priority.HIGH)


def test_additional_needs_reason_alone_makes_priority_high() -> None:
    result = triage(referral_with_reasons([Reason.ADDITIONAL_NEEDS], additional_needs=False))
    assert result == TriageResult(mandatory=False, priority=Priority.HIGH)


@pytest.mark.parametrize("reason", [Reason.COMPLEX_ISSUE, Reason.PERSISTENT_OR_VEXATIOUS, Reason.OTHER])
def test_other_reasons_are_normal_priority_and_need_the_chair(reason: Reason) -> None:
    assert triage(referral_with_reasons([reason])) == TriageResult(mandatory=False, priority=Priority.NORMAL)


@PROPERTY
@given(reasons=reason_sets, added=st.lists(st.sampled_from(list(Reason)), unique=True))
def test_an_added_reason_counts_like_one_given_at_the_start(reasons: list[Reason], added: list[Reason]) -> None:
    start = referral_with_reasons(reasons)
    later = triage(start, added)
    together = triage(referral_with_reasons(list(dict.fromkeys([*reasons, *added]))))
    assert later == together
    # Reasons are only ever added: a review never stops being mandatory, and its priority never falls.
    before = triage(start)
    assert later.mandatory >= before.mandatory
    assert not (before.priority is Priority.HIGH and later.priority is Priority.NORMAL)
