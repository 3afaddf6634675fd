"""Referral and Findings contracts: the JSON shapes integrations send (DESIGN §5)."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from peer_review.domain.models import (
    MAX_ITEMS,
    MAX_JSON_BYTES,
    MAX_LONG_TEXT,
    MAX_SHORT_TEXT,
    ChairDecision,
    Decision,
    Findings,
    Reason,
    Referral,
    ReferralLevel,
    ReviewerAssignment,
    Withdrawal,
)
from tests.helpers import FINDINGS_EXAMPLES, PROPERTY, REFERRAL_EXAMPLES, example, findings_data, referral_data

# C0 control characters and DEL; tab, newline and carriage return are ordinary text.
C0_CONTROLS = [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]
ALLOWED_WHITESPACE = ["\t", "\n", "\r"]


def rejects(model: type[BaseModel], data: dict[str, Any], *fields: str) -> str:
    """Assert `model` refuses the data and that the message names every given field."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    message = str(caught.value)
    for field in fields:
        assert field in message, f"{field!r} not named in: {message}"
    return message


def rejects_referral(data: dict[str, Any], *fields: str) -> str:
    return rejects(Referral, data, *fields)


def rejects_findings(data: dict[str, Any], *fields: str) -> str:
    return rejects(Findings, data, *fields)


# --- The shipped examples are valid ---------------------------------------------------------------


@pytest.mark.parametrize("name", REFERRAL_EXAMPLES)
def test_every_example_referral_is_valid(name: str) -> None:
    data = example(name)
    referral = Referral.model_validate(data)
    assert referral.referral_id == data["referral_id"]
    assert [r.value for r in referral.reasons] == data["reasons"]


@pytest.mark.parametrize("name", FINDINGS_EXAMPLES)
def test_every_example_findings_is_valid(name: str) -> None:
    findings = Findings.model_validate(example(name))
    assert findings.customer_journey
    assert findings.contentious is (name == "findings-contentious.json")


def test_referral_round_trips_through_json() -> None:
    referral = Referral.model_validate(referral_data("complex-issue"))
    assert Referral.model_validate_json(referral.model_dump_json()) == referral


def test_findings_round_trip_through_json() -> None:
    findings = Findings.model_validate(findings_data())
    assert Findings.model_validate_json(findings.model_dump_json()) == findings


def test_referral_is_immutable() -> None:
    referral = Referral.model_validate(referral_data())
    with pytest.raises(ValidationError):
        referral.summary = "changed"  # type: ignore[misc]


# --- Unknown fields -------------------------------------------------------------------------------


def test_referral_rejects_unknown_top_level_field() -> None:
    rejects_referral(referral_data(priority="high"), "priority")


def test_referral_rejects_unknown_customer_field() -> None:
    data = referral_data()
    data["customer"] = {**data["customer"], "name": "Jane Doe"}
    rejects_referral(data, "customer", "name")


def test_findings_rejects_unknown_top_level_field() -> None:
    rejects_findings(findings_data(blame="the caseworker"), "blame")


@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("customer_journey", {"score": 3}),
        ("chronology", {"who": "S300"}),
        ("issues_addressed", {"priority": "high"}),
        ("recommendations", {"due": "2026-04-01"}),
    ],
)
def test_findings_rejects_unknown_field_in_nested_items(field: str, extra: dict[str, Any]) -> None:
    data = findings_data()
    data[field] = [{**data[field][0], **extra}, *data[field][1:]]
    rejects_findings(data, field, next(iter(extra)))


def test_action_payloads_reject_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        Decision.model_validate({"actor": "S100", "rationale": "ok", "as": "S101"})
    with pytest.raises(ValidationError):
        ReviewerAssignment.model_validate({"actor": "S100", "reviewer": "S400", "site": "Bristol"})
    with pytest.raises(ValidationError):
        Withdrawal.model_validate({"actor": "S300", "reason": "done", "force": True})


def test_chair_decision_signal_only_accepts_approve_or_decline() -> None:
    assert ChairDecision(actor="S100", decision="approve").decision == "approve"
    with pytest.raises(ValidationError):
        ChairDecision.model_validate({"actor": "S100", "decision": "maybe"})


# --- Enums ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [level.value for level in ReferralLevel])
def test_every_referral_level_is_accepted(level: str) -> None:
    assert Referral.model_validate(referral_data(referral_level=level)).referral_level == level


@pytest.mark.parametrize("level", ["national", "SITE", "team", "", "Site "])
def test_unknown_referral_level_is_rejected(level: str) -> None:
    rejects_referral(referral_data(referral_level=level), "referral_level")


@pytest.mark.parametrize("reason", ["suicide", "vulnerable", "OTHER", ""])
def test_unknown_reason_is_rejected(reason: str) -> None:
    rejects_referral(referral_data(reasons=[reason]), "reasons")


@pytest.mark.parametrize("followed", ["yes", "partly", "no"])
def test_every_followed_value_is_accepted(followed: str) -> None:
    data = findings_data()
    data["customer_journey"][0]["followed"] = followed
    assert Findings.model_validate(data).customer_journey[0].followed == followed


@pytest.mark.parametrize("followed", ["maybe", "Yes", "", "true"])
def test_unknown_followed_value_is_rejected(followed: str) -> None:
    data = findings_data()
    data["customer_journey"][0]["followed"] = followed
    rejects_findings(data, "followed")


@pytest.mark.parametrize("level", ["regional", "NATIONAL", ""])
def test_unknown_recommendation_level_is_rejected(level: str) -> None:
    data = findings_data()
    data["recommendations"][0]["level"] = level
    rejects_findings(data, "level")


# --- Reasons --------------------------------------------------------------------------------------


def test_at_least_one_reason_is_required() -> None:
    rejects_referral(referral_data(reasons=[]), "reasons")


def test_reasons_are_required() -> None:
    data = referral_data()
    del data["reasons"]
    rejects_referral(data, "reasons")


def test_other_reason_is_required_with_other() -> None:
    rejects_referral(referral_data("other", other_reason=None), "other_reason")


def test_other_reason_may_not_be_blank() -> None:
    rejects_referral(referral_data("other", other_reason="   "), "other_reason")


def test_other_reason_is_refused_without_other() -> None:
    rejects_referral(referral_data("persistent", other_reason="Media interest"), "other_reason")


def test_other_reason_is_kept_with_other() -> None:
    referral = Referral.model_validate(referral_data("other"))
    assert referral.other_reason == "Media interest in the handling of the case"


@pytest.mark.parametrize("reason", [r.value for r in Reason])
def test_duplicate_reason_is_rejected(reason: str) -> None:
    data = referral_data(reasons=[reason, reason], other_reason="Media" if reason == Reason.OTHER else None)
    rejects_referral(data, "reasons")


def test_complex_issue_needs_issues_raised() -> None:
    rejects_referral(referral_data("complex-issue", issues_raised=[]), "issues_raised")


def test_issues_raised_are_optional_for_other_reasons() -> None:
    data = referral_data("persistent")
    del data["issues_raised"]
    assert Referral.model_validate(data).issues_raised == []


@PROPERTY
@given(
    reasons=st.lists(st.sampled_from(list(Reason)), max_size=8),
    with_other_reason=st.booleans(),
    with_issues=st.booleans(),
)
def test_reason_rules_hold_for_any_combination(
    reasons: list[Reason], with_other_reason: bool, with_issues: bool
) -> None:
    data = referral_data(
        reasons=[r.value for r in reasons],
        other_reason="Media interest" if with_other_reason else None,
        issues_raised=["Payment stopped"] if with_issues else [],
    )
    valid = (
        len(reasons) >= 1
        and len(set(reasons)) == len(reasons)
        and with_other_reason == (Reason.OTHER in reasons)
        and (with_issues or Reason.COMPLEX_ISSUE not in reasons)
    )
    if valid:
        assert Referral.model_validate(data).reasons == reasons
    else:
        with pytest.raises(ValidationError):
            Referral.model_validate(data)


# --- Control characters ---------------------------------------------------------------------------


@pytest.mark.parametrize("char", C0_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_are_rejected_in_referral_text(char: str) -> None:
    rejects_referral(referral_data(summary=f"Before{char}after"), "summary")
    rejects_referral(referral_data(business_arm=f"Universal{char}Credit"), "business_arm")


@pytest.mark.parametrize("char", C0_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_control_characters_are_rejected_in_list_items(char: str) -> None:
    rejects_referral(referral_data(issues_raised=["Fine", f"Bad{char}issue"]), "issues_raised")
    rejects_findings(findings_data(lessons_learned=[f"Bad{char}lesson"]), "lessons_learned")


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f"], ids=["NUL", "ESC", "DEL"])
def test_control_characters_are_rejected_in_nested_findings_items(char: str) -> None:
    data = findings_data()
    data["customer_journey"][0]["evidence"] = f"Case{char}notes"
    rejects_findings(data, "evidence")
    data = findings_data()
    data["recommendations"][1]["text"] = f"Add{char}a prompt"
    rejects_findings(data, "text")
    data = findings_data()
    data["chronology"][0]["event"] = f"Complaint{char}received"
    rejects_findings(data, "event")


def test_control_characters_are_rejected_in_action_payloads() -> None:
    with pytest.raises(ValidationError):
        Decision.model_validate({"actor": "S100", "rationale": "ok\x1b[2J"})


@pytest.mark.parametrize("char", ALLOWED_WHITESPACE, ids=["tab", "newline", "carriage-return"])
def test_ordinary_whitespace_is_allowed_inside_long_text(char: str) -> None:
    summary = f"First paragraph.{char}Second paragraph."
    assert Referral.model_validate(referral_data(summary=summary)).summary == summary


def test_unicode_letters_are_allowed() -> None:
    summary = "Customer Siân Ó Briain wrote in Welsh: “Diolch”."
    assert Referral.model_validate(referral_data(summary=summary)).summary == summary


C1_CONTROLS = [chr(c) for c in range(0x80, 0xA0)]


def test_c1_control_characters_are_rejected() -> None:
    """U+0080..U+009F are control characters too (Unicode category Cc): U+009B is the 8-bit CSI that
    some terminals treat like ESC[, and U+0085 (NEL) is a line break to some log tools."""
    assert all(unicodedata.category(char) == "Cc" for char in C1_CONTROLS)
    accepted = []
    for char in C1_CONTROLS:
        try:
            Referral.model_validate(referral_data(summary=f"Before{char}after"))
        except ValidationError:
            continue
        accepted.append(f"U+{ord(char):04X}")
    assert accepted == [], f"control characters accepted in summary: {', '.join(accepted)}"


# --- Size limits ----------------------------------------------------------------------------------


def test_long_text_may_be_exactly_the_limit() -> None:
    summary = "x" * MAX_LONG_TEXT
    assert Referral.model_validate(referral_data(summary=summary)).summary == summary


def test_long_text_over_the_limit_is_rejected() -> None:
    rejects_referral(referral_data(summary="x" * (MAX_LONG_TEXT + 1)), "summary")


def test_limits_apply_after_surrounding_whitespace_is_stripped() -> None:
    padded = "  " + "x" * MAX_LONG_TEXT + "\n"
    assert Referral.model_validate(referral_data(summary=padded)).summary == "x" * MAX_LONG_TEXT


def test_short_text_limits() -> None:
    arm = "x" * MAX_SHORT_TEXT
    assert Referral.model_validate(referral_data(business_arm=arm)).business_arm == arm
    rejects_referral(referral_data(business_arm=arm + "x"), "business_arm")
    rejects_referral(referral_data(site="y" * (MAX_SHORT_TEXT + 1)), "site")
    rejects_referral(referral_data("other", other_reason="z" * (MAX_SHORT_TEXT + 1)), "other_reason")


def test_each_issue_raised_is_short_text() -> None:
    rejects_referral(referral_data(issues_raised=["x" * (MAX_SHORT_TEXT + 1)]), "issues_raised")


def test_issues_raised_item_count_is_limited() -> None:
    issues = [f"Issue {n}" for n in range(MAX_ITEMS)]
    assert len(Referral.model_validate(referral_data(issues_raised=issues)).issues_raised) == MAX_ITEMS
    rejects_referral(referral_data(issues_raised=[*issues, "One too many"]), "issues_raised")


@pytest.mark.parametrize("field", ["summary", "business_arm", "site"])
def test_required_text_may_not_be_blank(field: str) -> None:
    rejects_referral(referral_data(**{field: "   "}), field)


@pytest.mark.parametrize("field", ["referral_id", "case_reference", "referred_by", "osn"])
def test_identifiers_are_limited_to_64_safe_characters(field: str) -> None:
    assert getattr(Referral.model_validate(referral_data(**{field: "A" * 64})), field) == "A" * 64
    rejects_referral(referral_data(**{field: "A" * 65}), field)
    for bad in ["", "has space", "semi;colon", "slash/id", "ünï"]:
        rejects_referral(referral_data(**{field: bad}), field)


def test_identifiers_are_stripped() -> None:
    assert Referral.model_validate(referral_data(referral_id="  PR-1  ")).referral_id == "PR-1"


@pytest.mark.parametrize("field", ["chronology", "issues_addressed", "recommendations", "lessons_learned"])
def test_findings_lists_are_limited_to_max_items(field: str) -> None:
    data = findings_data()
    item = data[field][0]
    data[field] = [item] * MAX_ITEMS
    assert len(getattr(Findings.model_validate(data), field)) == MAX_ITEMS
    data[field] = [item] * (MAX_ITEMS + 1)
    rejects_findings(data, field)


def test_findings_text_limits() -> None:
    rejects_findings(findings_data(summary="x" * (MAX_LONG_TEXT + 1)), "summary")
    rejects_findings(findings_data(lessons_learned=["x" * (MAX_LONG_TEXT + 1)]), "lessons_learned")
    data = findings_data()
    data["customer_journey"][0]["stage"] = "s" * (MAX_SHORT_TEXT + 1)
    rejects_findings(data, "stage")
    data = findings_data()
    data["recommendations"][0]["owner"] = "o" * (MAX_SHORT_TEXT + 1)
    rejects_findings(data, "owner")


def test_findings_need_at_least_one_stage_assessment() -> None:
    rejects_findings(findings_data(customer_journey=[]), "customer_journey")


def test_chronology_dates_must_be_dates() -> None:
    data = findings_data()
    data["chronology"][0]["date"] = "the second of March"
    rejects_findings(data, "date")


@pytest.mark.parametrize(
    "field",
    [
        "summary",
        "customer_journey",
        "underlying_error_identified",
        "national_improvements_identified",
    ],
)
def test_findings_required_fields(field: str) -> None:
    data = findings_data()
    del data[field]
    rejects_findings(data, field)


def test_findings_optional_fields_default_to_empty() -> None:
    data = {
        key: value
        for key, value in findings_data().items()
        if key in {"summary", "customer_journey", "underlying_error_identified"}
    }
    data["national_improvements_identified"] = False
    findings = Findings.model_validate(data)
    assert findings.recommendations == [] and findings.issues_addressed == []
    assert findings.contentious is False


def test_findings_over_the_total_size_limit_are_refused_naming_the_size() -> None:
    """Field limits alone allow about 5 MB of findings, over Temporal's 2 MB payload limit."""
    biggest = findings_data(
        lessons_learned=["x" * MAX_LONG_TEXT] * MAX_ITEMS,
        chronology=[{"date": "2026-03-02", "event": "x" * MAX_LONG_TEXT}] * MAX_ITEMS,
    )
    with pytest.raises(ValidationError) as refused:
        Findings.model_validate(biggest)
    message = str(refused.value)
    assert "findings: 2,0" in message and "bytes of JSON" in message and "limit of 262,144 bytes (256 KB)" in message
    # Just under the limit is accepted.
    assert Findings.model_validate(findings_data(lessons_learned=["x" * MAX_LONG_TEXT] * 25))


def test_a_referral_stays_within_the_total_size_limit() -> None:
    referral = Referral.model_validate(
        referral_data(summary="x" * MAX_LONG_TEXT, issues_raised=["y" * MAX_SHORT_TEXT] * MAX_ITEMS)
    )
    assert len(referral.model_dump_json()) < MAX_JSON_BYTES
