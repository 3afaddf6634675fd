"""What a review's requests must pass besides who may act now (that is PeerReviewWorkflow._authorise): a decline's
rationale, the reviewer's independence and place in the directory, a new reason, the findings and their owners.

The rules themselves live in peer_review.domain (lifecycle, findings); here each is raised as the workflow raises a
refusal (human_actions.rejected). `check_owners` asks the directory, so it is awaited in the handler; the others
are quick enough for a validator. Imported by workflows/peer_review.py only. Runs inside the workflow: no I/O.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.findings import findings_problems
    from peer_review.domain.lifecycle import Rejection, RejectionKind, check_reviewer, check_reviewer_is_independent
    from peer_review.domain.models import (
        Decision,
        Findings,
        OwnerLookup,
        Reason,
        ReasonAddition,
        RecommendationLevel,
        Referral,
        ReviewPolicy,
        Staff,
    )
    from peer_review.temporal.names import RESOLVE_OWNERS

from workflows.human_actions import rejected
from workflows.side_effects import look_up


def check_rationale(decision: Decision) -> None:
    if not decision.rationale:
        raise rejected(Rejection(RejectionKind.INVALID_INPUT, "rationale: a decline needs a rationale"))


def check_independent(reviewer: str, referral: Referral) -> None:
    try:
        check_reviewer_is_independent(reviewer, referral)
    except Rejection as rejection:
        raise rejected(rejection) from None


def check_reviewer_found(staff: Staff | None, reviewer: str, referral: Referral) -> None:
    """`staff` is what the directory answered for `reviewer`."""
    try:
        check_reviewer(staff, reviewer, referral)
    except Rejection as rejection:
        raise rejected(rejection) from None


def check_new_reason(addition: ReasonAddition, reasons: list[Reason]) -> None:
    if addition.reason in reasons:
        message = f"reason: {addition.reason.value} is already a reason for this review"
        raise rejected(Rejection(RejectionKind.INVALID_INPUT, message))
    if addition.reason is Reason.OTHER and not addition.detail:
        raise rejected(Rejection(RejectionKind.INVALID_INPUT, "detail: required when the reason is 'other'"))


def check_findings(findings: Findings, *, referral: Referral, policy: ReviewPolicy, reasons: list[Reason]) -> None:
    problems = findings_problems(
        findings,
        journey_stages=policy.journey_stages,
        issues_raised=referral.issues_raised,
        reasons=reasons,
        themes=policy.themes,
    )
    if problems:
        raise rejected(Rejection(RejectionKind.INVALID_INPUT, "; ".join(problems)))


async def check_owners(findings: Findings) -> list[str]:
    """Every recommendation's owner must be a staff or team id in the directory (a look-up, so an activity).

    Returns who reads for the owners of the local recommendations.
    """
    if not findings.recommendations:
        return []
    lookup = await look_up(RESOLVE_OWNERS, [r.owner for r in findings.recommendations], OwnerLookup)
    problems = [
        f"recommendations.{position}.owner: {item.owner} is not a staff or team id in the directory"
        for position, item in enumerate(findings.recommendations, start=1)
        if item.owner in lookup.unknown
    ]
    if problems:
        raise rejected(Rejection(RejectionKind.INVALID_INPUT, "; ".join(problems)))
    local = [r.owner for r in findings.recommendations if r.level is RecommendationLevel.LOCAL]
    return list(dict.fromkeys(c for owner in local for c in lookup.contacts.get(owner, [])))
