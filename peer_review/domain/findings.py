"""Rules a set of findings must meet before a review can move on. Pure."""

from __future__ import annotations

from collections.abc import Collection

from peer_review.domain.models import Findings, Reason, RecommendationLevel

# What the guidance asks of a review for each reason, beyond the Customer Journey (field, why it is needed).
SECTIONS_FOR_REASON: dict[Reason, tuple[str, str]] = {
    Reason.PERSISTENT_OR_VEXATIOUS: (
        "communications_assessment",
        "a persistent_or_vexatious referral needs an assessment of the communications with the customer",
    ),
    Reason.ADDITIONAL_NEEDS: (
        "impact_assessment",
        "an additional_needs referral needs the impact of an adverse decision or negative information "
        "and the risk of further escalation",
    ),
}


def required_sections(reasons: Collection[Reason]) -> list[str]:
    """The reason-specific findings fields these reasons make required, in a stable order."""
    return [field for reason, (field, _) in SECTIONS_FOR_REASON.items() if reason in reasons]


def findings_problems(
    findings: Findings,
    *,
    journey_stages: list[str],
    issues_raised: list[str],
    reasons: Collection[Reason] = (),
    themes: Collection[str] | None = None,
) -> list[str]:
    """Every reason the findings are incomplete or inconsistent; empty when they may be submitted.

    `themes`: the controlled vocabulary a recommendation's theme must come from (None: not checked here).
    """
    problems: list[str] = recommendation_problems(findings, journey_stages=journey_stages, themes=themes)
    for reason, (field, why) in SECTIONS_FOR_REASON.items():
        if reason in reasons and not getattr(findings, field):
            problems.append(f"{field}: required: {why}")
    assessed = [a.stage for a in findings.customer_journey]
    expected = {s.casefold(): s for s in journey_stages}
    seen = {s.casefold() for s in assessed}
    missing = [s for key, s in expected.items() if key not in seen]
    unknown = [s for s in assessed if s.casefold() not in expected]
    if missing:
        problems.append("customer_journey: missing assessment of stage(s): " + ", ".join(missing))
    if unknown:
        problems.append("customer_journey: unknown stage(s): " + ", ".join(unknown))
    if len(seen) != len(assessed):
        problems.append("customer_journey: each stage may be assessed only once")
    covered = {i.issue.casefold() for i in findings.issues_addressed}
    uncovered = [i for i in issues_raised if i.casefold() not in covered]
    if uncovered:
        problems.append("issues_addressed: not covered: " + "; ".join(uncovered))
    has_national = any(r.level is RecommendationLevel.NATIONAL for r in findings.recommendations)
    if findings.national_improvements_identified != has_national:
        problems.append(
            "national_improvements_identified: must be true exactly when a national recommendation is given"
        )
    return problems


def recommendation_problems(
    findings: Findings, *, journey_stages: list[str], themes: Collection[str] | None
) -> list[str]:
    """A recommendation's optional `stage` must be one of the review's stages, its `theme` one of the vocabulary."""
    stages = {s.casefold() for s in journey_stages}
    problems = []
    for position, item in enumerate(findings.recommendations, start=1):
        if item.stage is not None and item.stage.casefold() not in stages:
            known = ", ".join(journey_stages)
            problems.append(f"recommendations.{position}.stage: {item.stage!r} is not one of the stages: {known}")
        if item.theme is not None and themes is not None and item.theme not in themes:
            known = ", ".join(themes)
            problems.append(f"recommendations.{position}.theme: {item.theme!r} is not one of the themes: {known}")
    return problems
