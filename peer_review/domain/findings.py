"""Rules a set of findings must meet before a review can move on. Pure."""

from __future__ import annotations

from peer_review.domain.models import Findings, RecommendationLevel


def findings_problems(findings: Findings, *, journey_stages: list[str], issues_raised: list[str]) -> list[str]:
    """Every reason the findings are incomplete or inconsistent; empty when they may be submitted."""
    problems: list[str] = []
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
