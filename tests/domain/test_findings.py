"""findings_problems (DESIGN §3): every stage and every issue assessed, the national flag honest."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from peer_review.domain.findings import findings_problems, required_sections
from peer_review.domain.models import Findings, Reason, RecommendationLevel
from peer_review.settings import DEFAULT_JOURNEY_STAGES
from tests.helpers import PROPERTY, findings_data, make_findings, make_referral

ISSUES = make_referral("complex-issue").issues_raised


def assessment(stage: str, followed: str = "yes") -> dict[str, Any]:
    return {"stage": stage, "followed": followed, "evidence": f"Case notes for {stage}."}


def with_stages(stages: list[str], **changes: Any) -> Findings:
    return make_findings(customer_journey=[assessment(s) for s in stages], **changes)


def problems(
    findings: Findings,
    *,
    stages: list[str] | None = None,
    issues: list[str] | None = None,
) -> list[str]:
    return findings_problems(
        findings,
        journey_stages=DEFAULT_JOURNEY_STAGES if stages is None else stages,
        issues_raised=ISSUES if issues is None else issues,
    )


@pytest.mark.parametrize("name", ["findings.json", "findings-contentious.json"])
def test_example_findings_have_no_problems(name: str) -> None:
    assert problems(make_findings(name)) == []


def test_every_configured_stage_must_be_assessed() -> None:
    found = problems(with_stages(DEFAULT_JOURNEY_STAGES[:-1]))
    assert len(found) == 1
    assert found[0].startswith("customer_journey: missing")
    assert DEFAULT_JOURNEY_STAGES[-1] in found[0]


def test_all_missing_stages_are_named() -> None:
    found = problems(with_stages(["Response"]))
    missing = next(p for p in found if "missing" in p)
    for stage in DEFAULT_JOURNEY_STAGES:
        assert (stage in missing) == (stage != "Response")


def test_stages_match_case_insensitively() -> None:
    stages = [s.upper() for s in DEFAULT_JOURNEY_STAGES]
    assert problems(with_stages(stages)) == []
    assert problems(with_stages(DEFAULT_JOURNEY_STAGES), stages=stages) == []


def test_stages_match_after_surrounding_whitespace_is_stripped() -> None:
    assert problems(with_stages([f"  {s} " for s in DEFAULT_JOURNEY_STAGES])) == []


def test_unknown_stage_is_flagged() -> None:
    found = problems(with_stages([*DEFAULT_JOURNEY_STAGES, "Tea break"]))
    assert found == ["customer_journey: unknown stage(s): Tea break"]


def test_duplicate_stage_is_flagged() -> None:
    found = problems(with_stages([*DEFAULT_JOURNEY_STAGES, "Response"]))
    assert found == ["customer_journey: each stage may be assessed only once"]


def test_duplicate_stage_differing_only_in_case_is_flagged() -> None:
    found = problems(with_stages([*DEFAULT_JOURNEY_STAGES, "response"]))
    assert found == ["customer_journey: each stage may be assessed only once"]


def test_custom_stage_list_is_honoured() -> None:
    stages = ["Triage", "Resolution"]
    assert problems(with_stages(stages), stages=stages) == []
    found = problems(with_stages(DEFAULT_JOURNEY_STAGES), stages=stages)
    assert any("missing" in p and "Triage" in p and "Resolution" in p for p in found)
    assert any("unknown" in p and "Acknowledgement" in p for p in found)


@PROPERTY
@given(data=st.data())
def test_any_order_and_case_of_every_stage_passes(data: st.DataObject) -> None:
    order = data.draw(st.permutations(DEFAULT_JOURNEY_STAGES))
    cased = [data.draw(st.sampled_from([s, s.lower(), s.upper(), s.title(), s.swapcase()])) for s in order]
    assert problems(with_stages(cased)) == []


@PROPERTY
@given(kept=st.lists(st.sampled_from(DEFAULT_JOURNEY_STAGES), min_size=1, unique=True))
def test_a_missing_stage_is_always_reported(kept: list[str]) -> None:
    found = problems(with_stages(kept))
    missing = [s for s in DEFAULT_JOURNEY_STAGES if s not in kept]
    reported = any(p.startswith("customer_journey: missing") for p in found)
    assert reported == bool(missing)
    for stage in missing:
        assert any(stage in p for p in found)


# --- Issues raised --------------------------------------------------------------------------------


def issue(text: str, addressed: bool = True) -> dict[str, Any]:
    return {"issue": text, "addressed": addressed, "notes": "Checked."}


def test_every_issue_raised_must_be_covered() -> None:
    found = problems(make_findings(issues_addressed=[issue(ISSUES[0])]))
    assert found == [f"issues_addressed: not covered: {ISSUES[1]}"]


def test_no_issues_covered_names_them_all() -> None:
    found = problems(make_findings(issues_addressed=[]))
    assert len(found) == 1
    for raised in ISSUES:
        assert raised in found[0]


def test_issues_match_case_insensitively() -> None:
    findings = make_findings(issues_addressed=[issue(i.upper()) for i in ISSUES])
    assert problems(findings) == []


def test_an_issue_found_not_addressed_still_counts_as_assessed() -> None:
    findings = make_findings(issues_addressed=[issue(i, addressed=False) for i in ISSUES])
    assert problems(findings) == []


def test_no_issues_raised_needs_no_issues_addressed() -> None:
    assert problems(make_findings(issues_addressed=[]), issues=[]) == []


def test_extra_issues_addressed_are_harmless() -> None:
    findings = make_findings(issues_addressed=[issue(i) for i in [*ISSUES, "Something else"]])
    assert problems(findings) == []


# --- National improvements ------------------------------------------------------------------------


def recommendation(level: RecommendationLevel) -> dict[str, Any]:
    return {"level": level.value, "text": "Do better.", "owner": "Someone"}


def test_flag_without_national_recommendation_is_a_problem() -> None:
    findings = make_findings(
        recommendations=[recommendation(RecommendationLevel.LOCAL)],
        national_improvements_identified=True,
    )
    assert problems(findings) == [
        "national_improvements_identified: must be true exactly when a national recommendation is given"
    ]


def test_national_recommendation_without_flag_is_a_problem() -> None:
    findings = make_findings(national_improvements_identified=False)
    assert len(problems(findings)) == 1


def test_no_recommendations_and_no_flag_is_fine() -> None:
    assert problems(make_findings(recommendations=[], national_improvements_identified=False)) == []


@PROPERTY
@given(
    levels=st.lists(st.sampled_from(list(RecommendationLevel)), max_size=6),
    flag=st.booleans(),
)
def test_national_flag_is_true_exactly_when_a_national_recommendation_exists(
    levels: list[RecommendationLevel], flag: bool
) -> None:
    findings = make_findings(
        recommendations=[recommendation(level) for level in levels],
        national_improvements_identified=flag,
    )
    flagged = any(p.startswith("national_improvements_identified") for p in problems(findings))
    assert flagged == (flag != (RecommendationLevel.NATIONAL in levels))


def test_all_problems_are_reported_together() -> None:
    data = findings_data(
        issues_addressed=[],
        recommendations=[],
        national_improvements_identified=True,
    )
    data["customer_journey"] = [assessment("Response"), assessment("response"), assessment("Other")]
    found = problems(Findings.model_validate(data))
    assert [p.split(":")[0] for p in found] == [
        "customer_journey",
        "customer_journey",
        "customer_journey",
        "issues_addressed",
        "national_improvements_identified",
    ]


# --- What the guidance asks per reason (issue 14): these field names are the contract ----------------

SECTION_OF = {
    Reason.PERSISTENT_OR_VEXATIOUS: "communications_assessment",
    Reason.ADDITIONAL_NEEDS: "impact_assessment",
}
NO_SECTIONS: dict[str, Any] = {"communications_assessment": None, "impact_assessment": None, "underlying_error": None}


@pytest.mark.parametrize("reasons", [[r] for r in Reason] + [list(Reason)], ids=lambda rs: "+".join(rs))
def test_each_reason_needs_its_own_section_named_by_field(reasons: list[Reason]) -> None:
    bare = make_findings(**NO_SECTIONS)
    found = findings_problems(bare, journey_stages=DEFAULT_JOURNEY_STAGES, issues_raised=ISSUES, reasons=reasons)
    expected = [SECTION_OF[r] for r in SECTION_OF if r in reasons]
    assert [p.split(":")[0] for p in found] == expected
    assert required_sections(reasons) == expected
    complete = make_findings(**{field: "Assessed." for field in expected})
    assert (
        findings_problems(complete, journey_stages=DEFAULT_JOURNEY_STAGES, issues_raised=ISSUES, reasons=reasons) == []
    )


def test_the_sections_are_optional_for_other_reasons() -> None:
    bare = make_findings(**NO_SECTIONS)
    for reason in (Reason.COMPLEX_ISSUE, Reason.OTHER, Reason.SUICIDE):
        found = findings_problems(bare, journey_stages=DEFAULT_JOURNEY_STAGES, issues_raised=ISSUES, reasons=[reason])
        assert found == []


def test_an_identified_underlying_error_must_be_explained() -> None:
    with pytest.raises(ValidationError) as caught:
        make_findings(underlying_error_identified=True, underlying_error=None)
    assert "underlying_error: required when underlying_error_identified is true" in str(caught.value)
    explained = make_findings(underlying_error_identified=True, underlying_error="Deduction applied twice.")
    assert explained.underlying_error == "Deduction applied twice."
    assert make_findings(underlying_error_identified=False, underlying_error=None).underlying_error is None


@pytest.mark.parametrize("owner", ["Leeds complaints team", "", "a" * 65])
def test_a_recommendation_owner_is_an_id_never_free_text(owner: str) -> None:
    data = findings_data()
    data["recommendations"][0]["owner"] = owner
    with pytest.raises(ValidationError, match="owner"):
        Findings.model_validate(data)
