"""Example payloads for docs/openapi.json (the DESIGN's own); schemathesis sends them too, reaching deep paths."""

from __future__ import annotations

from typing import Any

from peer_review.domain.lifecycle import ActionName

REFERRAL_EXAMPLE: dict[str, Any] = {
    "referral_id": "PR-2026-0001",
    "case_reference": "CMP-778812",
    "referred_by": "S300",
    "referral_level": "site",
    "business_arm": "Universal Credit",
    "site": "Leeds",
    "osn": "north-east",
    "reasons": ["complex_issue", "additional_needs"],
    "other_reason": None,
    "complaint_made": True,
    "summary": "What happened, in the referrer's words.",
    "issues_raised": ["Payment stopped without notice", "No reply to two letters"],
    "customer": {"reference": "C-5521", "additional_needs": True},
}
FINDINGS_EXAMPLE: dict[str, Any] = {
    "summary": "The key stages were mostly followed; one letter went unanswered.",
    "chronology": [{"date": "2026-03-02", "event": "Complaint received"}],
    "customer_journey": [
        {"stage": stage, "followed": "yes", "evidence": "Case notes"}
        for stage in ("Acknowledgement", "Investigation", "Contact with the customer", "Response", "Remedy")
    ],
    "issues_addressed": [
        {"issue": "Payment stopped without notice", "addressed": True, "notes": None},
        {"issue": "No reply to two letters", "addressed": False, "notes": "The second letter was not logged"},
    ],
    "underlying_error_identified": False,
    "underlying_error": None,
    "communications_assessment": None,
    "impact_assessment": "The stopped payment left the customer without money for two weeks; risk of escalation.",
    "national_improvements_identified": True,
    "recommendations": [{"level": "national", "text": "Log every letter on receipt", "owner": "T-COMPLAINTS-POLICY"}],
    "lessons_learned": ["Check the post log before replying"],
    "contentious": False,
}
ACTION_EXAMPLES: dict[ActionName, dict[str, Any]] = {
    ActionName.APPROVE: {"rationale": "Several issues to check"},
    ActionName.DECLINE: {"rationale": "Reviewed at district level last month"},
    ActionName.ASSIGN_REVIEWER: {"reviewer": "S400"},
    ActionName.RETURN_FOR_REWORK: {"reason": "Add the March letters to the chronology"},
    ActionName.WITHDRAW: {"reason": "Resolved informally"},
    ActionName.ADD_REASON: {"reason": "suicide_or_alleged_suicide", "detail": "The family told the office today"},
}
