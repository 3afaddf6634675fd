"""Triage policy: is the review mandatory, and how urgent is it? Pure."""

from __future__ import annotations

from dataclasses import dataclass

from peer_review.domain.models import Priority, Reason, Referral


@dataclass(frozen=True)
class TriageResult:
    mandatory: bool
    priority: Priority


def triage(referral: Referral) -> TriageResult:
    # Suicide or alleged suicide makes a review mandatory whether or not a complaint was made and
    # whether or not the suicide is confirmed; it skips the Chair's decision.
    mandatory = Reason.SUICIDE in referral.reasons
    vulnerable = Reason.ADDITIONAL_NEEDS in referral.reasons or referral.customer.additional_needs
    priority = Priority.HIGH if mandatory or vulnerable else Priority.NORMAL
    return TriageResult(mandatory=mandatory, priority=priority)
