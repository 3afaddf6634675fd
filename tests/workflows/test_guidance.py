"""The guidance to the letter (issue 14), through the real worker: a mandatory review is never refused, the review
is independent, the Chair decides by signal, a case can change while it is reviewed, findings answer each reason."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from peer_review.domain.lifecycle import ActionName, RejectionKind
from peer_review.domain.models import (
    AuditEvent,
    ChairDecision,
    Decision,
    FindingsSubmission,
    Outcome,
    Priority,
    Reason,
    ReasonAddition,
    ReviewerAssignment,
    Rework,
    Status,
    Withdrawal,
)
from peer_review.records.read_model import review_record
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal import search_attributes as sa
from peer_review.temporal.client import ActionRejected, InvalidInput, PeerReviewClient
from tests.helpers import findings, refer, refer_triaged, referral, triaged, under_review
from tests.helpers.reviews import finished
from tests.helpers.staff import CASEWORKER, CHAIR, DEPUTY, FOCAL, NATIONAL_LEAD, REFERRER, REVIEWER

SITE_CONTACT = CASEWORKER


async def trail_until(
    reviews: PeerReviewClient, ref: str, done: Callable[[list[AuditEvent]], bool]
) -> list[AuditEvent]:
    """The audit trail once `done` holds (notification outcomes land a moment after the move that sent them)."""
    for _ in range(250):
        trail = await reviews.audit_trail(ref)
        if done(trail):
            return trail
        await asyncio.sleep(0.02)
    raise AssertionError(f"the audit trail of {ref} never got there: {[e.action for e in trail]}")


def sent(trail: list[AuditEvent], step: str) -> set[str]:
    """Who was sent a notification of `step` (from the audit trail's notification outcomes)."""
    prefix = f"{step} to "
    return {
        (e.detail or "").removeprefix(prefix).split(":")[0]
        for e in trail
        if e.action == "notification_sent" and (e.detail or "").startswith(prefix)
    }


async def assign_and_submit(reviews: PeerReviewClient, ref: str, *, assigner: str, reviewer: str) -> None:
    await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=assigner, reviewer=reviewer))
    await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=reviewer, findings=findings()))


# --- 1. A mandatory review is never refused ------------------------------------------------------------


async def test_a_suicide_referral_with_no_chair_listed_starts_is_escalated_and_can_complete(
    reviews: PeerReviewClient,
) -> None:
    r = referral("suicide", osn="no-chair-here")
    started = await reviews.refer(r)
    assert not started.already_started
    view = await triaged(reviews, r.referral_id)
    assert view.status is Status.AWAITING_REVIEWER and view.mandatory and view.chair is None
    trail = await trail_until(reviews, r.referral_id, lambda t: len(sent(t, "directory_gap")) == 2)
    warnings = [e.detail for e in trail if e.action == "directory_warning"]
    assert warnings == ["no OSN Chair listed for no-chair-here"]
    escalated = next(e for e in trail if e.action == "escalated")
    assert FOCAL in (escalated.detail or "") and NATIONAL_LEAD in (escalated.detail or "")
    assert sent(trail, "directory_gap") == {FOCAL, NATIONAL_LEAD}
    # With no Chair, the Focal Point stands in, so the review still reaches its end.
    ref = r.referral_id
    await assign_and_submit(reviews, ref, assigner=FOCAL, reviewer=REVIEWER)
    view = await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=FOCAL))
    assert view.outcome is Outcome.COMPLETED
    await finished(reviews, ref)


async def test_a_suicide_referral_from_an_unlisted_referrer_starts_and_is_escalated(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "suicide", referred_by="S999")
    view = await triaged(reviews, ref)
    assert view.status is Status.AWAITING_REVIEWER and view.chair == CHAIR
    trail = await trail_until(reviews, ref, lambda t: len(sent(t, "directory_gap")) == 2)
    assert [e.detail for e in trail if e.action == "directory_warning"] == ["referrer is not in the staff directory"]


async def test_other_referrals_still_need_a_listed_referrer_and_chair(reviews: PeerReviewClient) -> None:
    for changes, field in (({"osn": "no-chair-here"}, "osn"), ({"referred_by": "S999"}, "referred_by")):
        with pytest.raises(InvalidInput, match=f"^{field}: "):
            await reviews.refer(referral("complex-issue", **changes))


# --- 2. Separation of duties ------------------------------------------------------------------------


async def test_a_deputy_who_reviewed_cannot_sign_off_their_own_findings(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "complex-issue")
    await reviews.act(ref, ActionName.APPROVE, Decision(actor=CHAIR))
    await assign_and_submit(reviews, ref, assigner=CHAIR, reviewer=DEPUTY)
    before = await reviews.status(ref)
    for action, payload, why in (
        (ActionName.SIGN_OFF, Decision(actor=DEPUTY), "nobody signs off findings they wrote"),
        (ActionName.RETURN_FOR_REWORK, Rework(actor=DEPUTY, reason="Mine"), "nobody returns findings they wrote"),
    ):
        with pytest.raises(ActionRejected, match=f"separation of duties: {why}") as refused:
            await reviews.act(ref, action, payload)
        assert refused.value.kind is RejectionKind.NOT_PERMITTED
    assert await reviews.status(ref) == before  # a refusal changes nothing
    trail = await trail_until(
        reviews, ref, lambda t: {"sign_off_rejected", "return_for_rework_rejected"} <= {e.action for e in t}
    )
    refusals = [e for e in trail if e.action.endswith("_rejected")]
    assert [(e.actor, e.detail) for e in refusals] == [
        (DEPUTY, "separation of duties: nobody signs off findings they wrote"),
        (DEPUTY, "separation of duties: nobody returns findings they wrote"),
    ]
    # Another Chair or deputy, or the Focal Point, signs off in their place.
    view = await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=FOCAL))
    assert view.outcome is Outcome.COMPLETED
    await finished(reviews, ref)


async def test_a_chair_who_referred_never_decides_or_signs_off_their_own_referral(reviews: PeerReviewClient) -> None:
    ref = await refer_triaged(reviews, "complex-issue", referred_by=CHAIR)
    with pytest.raises(ActionRejected, match="referrer never decides on their own referral"):
        await reviews.act(ref, ActionName.APPROVE, Decision(actor=CHAIR))
    await reviews.signal_chair_decision(ref, ChairDecision(actor=CHAIR, decision="approve"))
    trail = await trail_until(reviews, ref, lambda t: sum(e.action == "approve_rejected" for e in t) == 2)
    assert all(e.actor == CHAIR for e in trail if e.action == "approve_rejected")
    assert (await reviews.status(ref)).status is Status.AWAITING_CHAIR_DECISION
    await reviews.act(ref, ActionName.APPROVE, Decision(actor=DEPUTY, rationale="The deputy decides"))
    with pytest.raises(ActionRejected, match="referrer never reviews"):
        await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=DEPUTY, reviewer=CHAIR))
    await assign_and_submit(reviews, ref, assigner=CHAIR, reviewer=REVIEWER)
    with pytest.raises(ActionRejected, match="referrer never signs off their own referral"):
        await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=CHAIR))
    view = await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=DEPUTY))
    assert view.outcome is Outcome.COMPLETED
    await finished(reviews, ref)


# --- 3. The Chair decides by signal -----------------------------------------------------------------


async def test_a_signal_approves_and_a_refused_signal_is_audited(reviews: PeerReviewClient) -> None:
    ref = await refer_triaged(reviews, "persistent")
    await reviews.signal_chair_decision(ref, ChairDecision(actor=DEPUTY, decision="decline"))  # no rationale
    await reviews.signal_chair_decision(ref, ChairDecision(actor=CHAIR, decision="approve", rationale="Yes"))
    trail = await trail_until(reviews, ref, lambda t: any(e.action == "approve" for e in t))
    assert (await reviews.status(ref)).status is Status.AWAITING_REVIEWER
    approve = next(e for e in trail if e.action == "approve")
    assert (approve.actor, approve.from_status, approve.to_status, approve.detail) == (
        CHAIR,
        Status.AWAITING_CHAIR_DECISION,
        Status.AWAITING_REVIEWER,
        "Yes",
    )
    refused = next(e for e in trail if e.action == "decline_rejected")
    assert refused.actor == DEPUTY and refused.detail == "rationale: a decline needs a rationale"


# --- 4. A case can change: add_reason -----------------------------------------------------------------


async def test_adding_suicide_makes_a_review_awaiting_a_decision_mandatory_in_place(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "persistent")
    view = await triaged(reviews, ref)
    assert (view.status, view.mandatory, view.priority) == (Status.AWAITING_CHAIR_DECISION, False, Priority.NORMAL)
    with pytest.raises(ActionRejected, match="only the") as stranger:
        await reviews.act(ref, ActionName.ADD_REASON, ReasonAddition(actor=REVIEWER, reason=Reason.SUICIDE))
    assert stranger.value.kind is RejectionKind.NOT_PERMITTED
    view = await reviews.act(
        ref,
        ActionName.ADD_REASON,
        ReasonAddition(actor=REFERRER, reason=Reason.SUICIDE, detail="Family told the office today"),
    )
    assert (view.status, view.mandatory, view.priority) == (Status.AWAITING_REVIEWER, True, Priority.HIGH)
    assert view.reasons == [Reason.PERSISTENT_OR_VEXATIOUS, Reason.SUICIDE]
    with pytest.raises(ActionRejected, match="reason: suicide_or_alleged_suicide is already a reason"):
        await reviews.act(ref, ActionName.ADD_REASON, ReasonAddition(actor=CHAIR, reason=Reason.SUICIDE))
    with pytest.raises(ActionRejected, match="mandatory"):
        await reviews.act(ref, ActionName.WITHDRAW, Withdrawal(actor=REFERRER, reason="No longer needed"))
    with pytest.raises(ActionRejected, match="cannot approve a review that is awaiting_reviewer"):
        await reviews.act(ref, ActionName.APPROVE, Decision(actor=CHAIR))

    trail = await trail_until(reviews, ref, lambda t: len(sent(t, "made_mandatory")) == 2)
    added = next(e for e in trail if e.action == "add_reason")
    assert (added.actor, added.from_status, added.to_status) == (
        REFERRER,
        Status.AWAITING_CHAIR_DECISION,
        Status.AWAITING_CHAIR_DECISION,
    )
    assert added.detail == "suicide_or_alleged_suicide: Family told the office today"
    skipped = next(e for e in trail if e.action == "chair_decision_skipped")
    assert (skipped.from_status, skipped.to_status) == (Status.AWAITING_CHAIR_DECISION, Status.AWAITING_REVIEWER)
    assert sent(trail, "made_mandatory") == {CHAIR, FOCAL}

    attributes = (await reviews.client.get_workflow_handle(f"peer-review-{ref}").describe()).typed_search_attributes
    assert attributes.get(sa.MANDATORY) is True
    assert attributes.get(sa.STATUS) == Status.AWAITING_REVIEWER.value
    assert set(attributes.get(sa.REASONS) or []) == {Reason.PERSISTENT_OR_VEXATIOUS.value, Reason.SUICIDE.value}


async def test_an_added_reason_asks_its_findings_section_and_reaches_the_records(
    reviews: PeerReviewClient, store: RecordsStore
) -> None:
    r = referral("complex-issue")
    ref = r.referral_id
    await reviews.refer(r)
    await under_review(reviews, ref)
    view = await reviews.act(
        ref, ActionName.ADD_REASON, ReasonAddition(actor=FOCAL, reason=Reason.PERSISTENT_OR_VEXATIOUS)
    )
    assert view.status is Status.UNDER_REVIEW and view.mandatory is False
    without = findings(communications_assessment=None)
    with pytest.raises(ActionRejected, match=r"^communications_assessment: required") as refused:
        await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=without))
    assert refused.value.kind is RejectionKind.INVALID_INPUT
    await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings()))
    await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=CHAIR))
    await finished(reviews, ref)
    record = await review_record(store, ref)
    assert record is not None
    assert record.row.reasons == ["complex_issue", "additional_needs", "persistent_or_vexatious"]


@pytest.mark.parametrize(
    ("kind", "field"),
    [("persistent", "communications_assessment"), ("additional-needs", "impact_assessment")],
)
async def test_findings_without_the_reasons_section_are_refused_naming_the_field(
    kind: str, field: str, reviews: PeerReviewClient, settings: Settings
) -> None:
    ref = await refer(reviews, kind)
    view = await under_review(reviews, ref)
    assert view.journey_stages == settings.journey_stages
    with pytest.raises(ActionRejected, match=f"^{field}: required") as refused:
        await reviews.act(
            ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings(**{field: None}))
        )
    assert refused.value.kind is RejectionKind.INVALID_INPUT
    assert (await reviews.status(ref)).status is Status.UNDER_REVIEW


async def test_a_recommendation_owner_must_be_in_the_directory_and_the_site_is_told_where_to_read(
    reviews: PeerReviewClient,
) -> None:
    r = referral("complex-issue")
    ref = r.referral_id
    await reviews.refer(r)
    await under_review(reviews, ref)
    recommendations = findings().model_dump(mode="json")["recommendations"]
    recommendations[1]["owner"] = "T-NOBODY"
    with pytest.raises(ActionRejected, match=r"^recommendations\.2\.owner: T-NOBODY is not a staff or team id"):
        await reviews.act(
            ref,
            ActionName.SUBMIT_FINDINGS,
            FindingsSubmission(actor=REVIEWER, findings=findings(recommendations=recommendations)),
        )
    assert (await reviews.status(ref)).status is Status.UNDER_REVIEW
    await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings()))
    await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=CHAIR))
    await finished(reviews, ref)
    trail = await reviews.audit_trail(ref)
    # The Leeds team (the site's contact, and owner of the local recommendation) is told where to read.
    assert sent(trail, "local_feedback") == {SITE_CONTACT}
    assert sent(trail, "review_closed") == {REFERRER, REVIEWER}
