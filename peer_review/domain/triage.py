"""Triage policy: is the review mandatory, and how urgent is it? Pure."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from peer_review.domain.models import Priority, Reason, Referral


@dataclass(frozen=True)
class TriageResult:
    mandatory: bool
    priority: Priority


def triage(referral: Referral, added: Collection[Reason] = ()) -> TriageResult:
    """The referral's triage, counting any reasons `added` during the review (which may make it mandatory)."""
    reasons = {*referral.reasons, *added}
    # Suicide or alleged suicide makes a review mandatory whether or not a complaint was made and
    # whether or not the suicide is confirmed; it skips the Chair's decision.
    mandatory = Reason.SUICIDE in reasons
    vulnerable = Reason.ADDITIONAL_NEEDS in reasons or referral.customer.additional_needs
    priority = Priority.HIGH if mandatory or vulnerable else Priority.NORMAL
    return TriageResult(mandatory=mandatory, priority=priority)


def is_mandatory(referral: Referral) -> bool:
    return triage(referral).mandatory
