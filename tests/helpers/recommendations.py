"""Taking a review to sign-off, so that its recommendations are tracked; waiting for a tracked one to start."""

from __future__ import annotations

import asyncio

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import (
    Decision,
    Findings,
    FindingsSubmission,
    RecommendationView,
    Referral,
    ReviewerAssignment,
)
from peer_review.temporal.client import PeerReviewClient, ReferralNotFound
from tests.helpers.factories import findings as example_findings
from tests.helpers.factories import referral
from tests.helpers.staff import CHAIR, REVIEWER


async def reviewed(reviews: PeerReviewClient, found: Findings | None = None) -> Referral:
    """A complex-issue review approved and reviewed by REVIEWER with `found` (the example findings): it awaits
    the Chair's sign-off."""
    r = referral("complex-issue")
    await reviews.refer(r)
    await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor=CHAIR))
    await reviews.act(r.referral_id, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=CHAIR, reviewer=REVIEWER))
    submission = FindingsSubmission(actor=REVIEWER, findings=found or example_findings())
    await reviews.act(r.referral_id, ActionName.SUBMIT_FINDINGS, submission)
    return r


async def signed_off(reviews: PeerReviewClient, found: Findings | None = None) -> Referral:
    """A review as `reviewed` leaves it, signed off by the Chair."""
    r = await reviewed(reviews, found)
    await reviews.act(r.referral_id, ActionName.SIGN_OFF, Decision(actor=CHAIR))
    return r


async def tracked(reviews: PeerReviewClient, rec_id: str) -> RecommendationView:
    """The recommendation once its workflow has started and resolved who acts (the review starts it after closing)."""
    for _ in range(300):
        try:
            view = await reviews.recommendation(rec_id)
        except ReferralNotFound:
            await asyncio.sleep(0.05)
            continue
        if view.due_at is not None:
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"{rec_id} was never tracked")
