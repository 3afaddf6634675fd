"""Every path of the lifecycle, with the real activities against a temporary SQLite database."""

from __future__ import annotations

import asyncio

import pytest

from peer_review.domain.lifecycle import ActionName, RejectionKind, audit_actions
from peer_review.domain.models import (
    ChairDecision,
    Decision,
    FindingsSubmission,
    Outcome,
    ReviewerAssignment,
    Rework,
    Status,
    Withdrawal,
)
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import ActionRejected, PeerReviewClient
from tests.helpers import chain_keys, findings, refer, referral, triaged
from tests.helpers.reviews import finished
from tests.helpers.staff import CHAIR, DEPUTY, FOCAL, REFERRER, REVIEWER, SAME_SITE_REVIEWER


async def test_approve_review_sign_off(reviews: PeerReviewClient, store: RecordsStore) -> None:
    r = referral("complex-issue")
    started = await reviews.refer(r)
    assert not started.already_started
    view = await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor=CHAIR, rationale="Worth it"))
    assert view.status is Status.AWAITING_REVIEWER and view.priority == "high" and view.mandatory is False
    view = await reviews.act(
        r.referral_id, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=CHAIR, reviewer=REVIEWER)
    )
    assert view.status is Status.UNDER_REVIEW and view.reviewer == REVIEWER
    view = await reviews.act(
        r.referral_id, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings())
    )
    assert view.status is Status.AWAITING_SIGN_OFF
    view = await reviews.act(r.referral_id, ActionName.SIGN_OFF, Decision(actor=CHAIR))
    assert view.status is Status.CLOSED and view.outcome is Outcome.COMPLETED
    await finished(reviews, r.referral_id)
    record = await store.audit_record(r.referral_id)
    assert record is not None and record.verify(chain_keys()).valid
    actions = [row.event.action for row in record.events]
    assert set(actions) <= set(audit_actions())  # only the names the record knows, never client text
    for expected in ("referred", "triage", "triaged", "approve", "assign_reviewer", "submit_findings", "sign_off"):
        assert expected in actions
    assert "notification_sent" in actions


async def test_mandatory_review_skips_the_chair_and_cannot_be_declined_or_withdrawn(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "suicide")
    view = await triaged(reviews, ref)
    assert view.status is Status.AWAITING_REVIEWER and view.mandatory
    with pytest.raises(ActionRejected, match="mandatory"):
        await reviews.act(ref, ActionName.WITHDRAW, Withdrawal(actor=CHAIR, reason="no"))
    with pytest.raises(ActionRejected, match="cannot be declined"):
        await reviews.act(ref, ActionName.DECLINE, Decision(actor=CHAIR, rationale="no"))
    assert (await reviews.status(ref)).status is Status.AWAITING_REVIEWER


async def test_decline_needs_the_chair_and_a_rationale(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "persistent")
    with pytest.raises(ActionRejected, match="rationale") as missing:
        await reviews.act(ref, ActionName.DECLINE, Decision(actor=CHAIR))
    assert missing.value.kind is RejectionKind.INVALID_INPUT
    with pytest.raises(ActionRejected, match="only the chair or deputy") as stranger:
        await reviews.act(ref, ActionName.DECLINE, Decision(actor="S110", rationale="not mine"))
    assert stranger.value.kind is RejectionKind.NOT_PERMITTED
    view = await reviews.act(ref, ActionName.DECLINE, Decision(actor=DEPUTY, rationale="Handled"))
    assert view.status is Status.CLOSED and view.outcome is Outcome.DECLINED
    await finished(reviews, ref)


async def test_withdraw_by_referrer(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "other")
    view = await reviews.act(ref, ActionName.WITHDRAW, Withdrawal(actor=REFERRER, reason="Resolved"))
    assert view.outcome is Outcome.WITHDRAWN
    await finished(reviews, ref)


async def test_contentious_findings_need_clearance_and_rework_returns_to_review(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "additional-needs")
    await reviews.act(ref, ActionName.APPROVE, Decision(actor=CHAIR))
    await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=FOCAL, reviewer=REVIEWER))
    view = await reviews.act(
        ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings(contentious=True))
    )
    assert view.status is Status.AWAITING_LEGAL_CLEARANCE
    with pytest.raises(ActionRejected, match="focal point"):
        await reviews.act(ref, ActionName.CLEAR, Decision(actor=CHAIR))
    view = await reviews.act(ref, ActionName.CLEAR, Decision(actor=FOCAL))
    assert view.status is Status.AWAITING_SIGN_OFF
    view = await reviews.act(ref, ActionName.RETURN_FOR_REWORK, Rework(actor=CHAIR, reason="Add chronology"))
    assert view.status is Status.UNDER_REVIEW
    with pytest.raises(ActionRejected, match="findings exist"):
        await reviews.act(ref, ActionName.WITHDRAW, Withdrawal(actor=REFERRER, reason="late"))
    await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings()))
    view = await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=DEPUTY))
    assert view.outcome is Outcome.COMPLETED
    await finished(reviews, ref)


async def test_reviewer_must_be_an_eligible_peer(reviews: PeerReviewClient) -> None:
    r = referral("persistent")
    ref = r.referral_id
    await reviews.refer(r)
    with pytest.raises(ActionRejected, match="cannot assign_reviewer a review that is awaiting_chair"):
        await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=CHAIR, reviewer=REVIEWER))
    await reviews.act(ref, ActionName.APPROVE, Decision(actor=CHAIR))
    for candidate, reason in (
        (SAME_SITE_REVIEWER, "works at Leeds"),
        (REFERRER, "referrer never reviews their own referral"),
        (FOCAL, "does not hold the reviewer role"),
        ("S999", "not in the staff directory"),
    ):
        with pytest.raises(ActionRejected, match=reason):
            await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=CHAIR, reviewer=candidate))
    with pytest.raises(ActionRejected, match="only the"):
        await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=REVIEWER, reviewer=REVIEWER))
    view = await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=CHAIR, reviewer=REVIEWER))
    assert view.status is Status.UNDER_REVIEW
    with pytest.raises(ActionRejected, match="only the assigned reviewer"):
        await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=CHAIR, findings=findings()))
    incomplete = findings(
        customer_journey=findings().model_dump()["customer_journey"][:-1],
        issues_addressed=[],
    )
    with pytest.raises(ActionRejected, match=r"missing assessment of stage.*Remedy") as rejected:
        await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=incomplete))
    assert "Payment stopped without notice" in str(rejected.value)
    assert (await reviews.status(ref)).status is Status.UNDER_REVIEW


async def test_rejected_signal_is_audited_and_changes_nothing(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "persistent")
    await reviews.signal_chair_decision(ref, ChairDecision(actor=REVIEWER, decision="approve"))
    await reviews.signal_chair_decision(ref, ChairDecision(actor=CHAIR, decision="approve"))
    for _ in range(100):
        if (await reviews.status(ref)).status is Status.AWAITING_REVIEWER:
            break
        await asyncio.sleep(0.02)
    assert (await reviews.status(ref)).status is Status.AWAITING_REVIEWER  # the valid signal approved
    trail = await reviews.audit_trail(ref)
    rejected = [e for e in trail if e.action == "approve_rejected"]
    assert len(rejected) == 1 and rejected[0].actor == REVIEWER
    assert rejected[0].from_status is Status.AWAITING_CHAIR_DECISION == rejected[0].to_status


async def test_second_start_returns_the_existing_review(reviews: PeerReviewClient) -> None:
    r = referral("persistent")
    first = await reviews.refer(r)
    second = await reviews.refer(r)
    assert not first.already_started and second.already_started
    assert second.workflow_id == first.workflow_id
    await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor=CHAIR))
    with pytest.raises(ActionRejected, match="cannot approve"):
        await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor=CHAIR))
