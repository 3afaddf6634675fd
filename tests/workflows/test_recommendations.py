"""Tracked recommendations on the real worker and a real dev server: the whole life, each refusal, and exactly one
tracked item per recommendation of signed-off findings."""

from __future__ import annotations

import asyncio
import getpass
import uuid
from datetime import UTC

import pytest
from sqlalchemy import func, select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, RecommendationAct, RecommendationStatus, recommendation_id
from peer_review.domain.recommendations import RecommendationAction
from peer_review.records.schema import recommendations, referrals, status_spans
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import ActionRejected, PeerReviewClient
from peer_review.temporal.names import RECORD_BATCH
from tests.helpers import CHAIR, LEEDS_TEAM_CONTACT, NATIONAL_LEAD, REFERRER, chain_keys
from tests.helpers.recommendations import reviewed, signed_off, tracked
from tests.helpers.reviews import assert_records_match, settle

A = RecommendationAction
S = RecommendationStatus


async def test_a_local_recommendation_from_proposed_to_verified(reviews: PeerReviewClient, store: RecordsStore) -> None:
    r = await signed_off(reviews)
    # The review closed without waiting for its recommendations.
    await reviews.client.get_workflow_handle(f"peer-review-{r.referral_id}").result()
    local = recommendation_id(r.referral_id, 1)
    view = await tracked(reviews, local)
    assert view.status is S.PROPOSED and view.owner == "T-LEEDS-COMPLAINTS" and view.osn == "north-east"
    act = reviews.act_on_recommendation
    view = await act(local, A.ACCEPT, RecommendationAct(actor=LEEDS_TEAM_CONTACT))
    assert view.status is S.ACCEPTED
    view = await act(local, A.START, RecommendationAct(actor=LEEDS_TEAM_CONTACT))
    assert view.status is S.IN_PROGRESS
    evidence = "Acknowledgement now sent within two days; March audit attached."
    view = await act(local, A.IMPLEMENT, RecommendationAct(actor=LEEDS_TEAM_CONTACT, evidence=evidence))
    assert view.status is S.IMPLEMENTED and view.evidence == evidence
    view = await act(local, A.REOPEN, RecommendationAct(actor=CHAIR, reason="Only one week audited"))
    assert view.status is S.IN_PROGRESS
    view = await act(local, A.IMPLEMENT, RecommendationAct(actor=LEEDS_TEAM_CONTACT, evidence=evidence))
    view = await act(local, A.VERIFY, RecommendationAct(actor=CHAIR))
    assert view.status is S.VERIFIED and view.due_at is None
    await reviews.client.get_workflow_handle(f"recommendation-{local}").result()

    async def row() -> tuple[str, object, object]:
        async with store.engine.connect() as connection:
            found = (
                await connection.execute(
                    select(
                        recommendations.c.status, recommendations.c.implemented_at, recommendations.c.verified_at
                    ).where(recommendations.c.recommendation_id == local)
                )
            ).one()
        return found.status, found.implemented_at, found.verified_at

    status, implemented_at, verified_at = await row()
    assert status == "verified" and implemented_at is not None and verified_at is not None
    record = await store.audit_record(local)
    assert record is not None and record.verify(chain_keys()).valid
    moves = [(e.event.action, e.event.to_status) for e in record.events if e.event.to_status]
    assert moves == [
        ("proposed", S.PROPOSED),
        ("accept", S.ACCEPTED),
        ("start", S.IN_PROGRESS),
        ("implement", S.IMPLEMENTED),
        ("reopen", S.IN_PROGRESS),
        ("implement", S.IMPLEMENTED),
        ("verify", S.VERIFIED),
    ]
    proven = {e.event.proven_by for e in record.events if e.event.action in ("accept", "verify")}
    assert proven == {
        f"operator {getpass.getuser()} for {LEEDS_TEAM_CONTACT}",
        f"operator {getpass.getuser()} for {CHAIR}",
    }


async def test_each_refusal_changes_nothing_and_is_recorded(reviews: PeerReviewClient, store: RecordsStore) -> None:
    r = await signed_off(reviews)
    local, national = recommendation_id(r.referral_id, 1), recommendation_id(r.referral_id, 2)
    await tracked(reviews, local)
    await tracked(reviews, national)
    act = reviews.act_on_recommendation
    # Wrong person: the referrer does not own it; the Chair verifies local ones, not national ones.
    with pytest.raises(ActionRejected, match="only the owner may accept") as refused:
        await act(local, A.ACCEPT, RecommendationAct(actor=REFERRER))
    assert refused.value.exit_code == 3
    # Wrong status: nothing to verify or start yet.
    with pytest.raises(ActionRejected, match="cannot start a recommendation that is proposed"):
        await act(local, A.START, RecommendationAct(actor=LEEDS_TEAM_CONTACT))
    # Missing rationale, missing evidence, missing owner.
    with pytest.raises(ActionRejected, match=r"^rationale: required to decline"):
        await act(local, A.DECLINE, RecommendationAct(actor=LEEDS_TEAM_CONTACT))
    await act(national, A.ACCEPT, RecommendationAct(actor=NATIONAL_LEAD))
    await act(national, A.START, RecommendationAct(actor=NATIONAL_LEAD))
    with pytest.raises(ActionRejected, match=r"^evidence: required to implement"):
        await act(national, A.IMPLEMENT, RecommendationAct(actor=NATIONAL_LEAD))
    with pytest.raises(ActionRejected, match=r"^owner: required to reassign"):
        await act(national, A.REASSIGN, RecommendationAct(actor=NATIONAL_LEAD))
    with pytest.raises(ActionRejected, match=r"^owner: T-NOBODY is not a staff or team id"):
        await act(national, A.REASSIGN, RecommendationAct(actor=NATIONAL_LEAD, owner="T-NOBODY"))
    await act(national, A.IMPLEMENT, RecommendationAct(actor=NATIONAL_LEAD, evidence="Prompt added"))
    # The Chair verifies local recommendations only; nobody verifies what they implemented.
    with pytest.raises(ActionRejected, match="only the national lead may verify"):
        await act(national, A.VERIFY, RecommendationAct(actor=CHAIR))
    with pytest.raises(ActionRejected, match="separation of duties"):
        await act(national, A.VERIFY, RecommendationAct(actor=NATIONAL_LEAD))
    # The national lead gives the local one to another owner; a decline then needs the new owner.
    view = await act(local, A.REASSIGN, RecommendationAct(actor=NATIONAL_LEAD, owner="S302"))
    assert view.owner == "S302" and view.status is S.PROPOSED
    view = await act(local, A.DECLINE, RecommendationAct(actor="S302", rationale="Covered by the new system"))
    assert view.status is S.NOT_ACCEPTED and view.rationale == "Covered by the new system"
    with pytest.raises(ActionRejected, match="cannot accept a recommendation that is not_accepted"):
        await act(local, A.ACCEPT, RecommendationAct(actor="S302"))
    assert (await reviews.recommendation(national)).status is S.IMPLEMENTED

    expected = [
        "implement_rejected",
        "reassign_rejected",
        "reassign_rejected",
        "verify_rejected",
        "verify_rejected",
    ]
    assert await recorded_refusals(store, national, len(expected)) == expected


async def recorded_refusals(store: RecordsStore, rec_id: str, count: int) -> list[str]:
    """The refusals in a recommendation's record, once `count` of them have been written."""
    found: list[str] = []
    for _ in range(200):
        record = await store.audit_record(rec_id)
        found = [e.event.action for e in record.events if e.event.action.endswith("_rejected")] if record else []
        if len(found) >= count:
            break
        await asyncio.sleep(0.05)
    return found


async def test_closing_a_review_tracks_exactly_one_item_per_recommendation(
    reviews: PeerReviewClient, store: RecordsStore
) -> None:
    r = await signed_off(reviews)
    await reviews.client.get_workflow_handle(f"peer-review-{r.referral_id}").result()
    for position in (1, 2):
        await tracked(reviews, recommendation_id(r.referral_id, position))
    started = [
        execution.id
        async for execution in reviews.client.list_workflows(
            f"WorkflowType = 'RecommendationWorkflow' AND WorkflowId STARTS_WITH 'recommendation-{r.referral_id}-'"
        )
    ]
    assert sorted(started) == [f"recommendation-{r.referral_id}-R1", f"recommendation-{r.referral_id}-R2"]
    trail = await reviews.audit_trail(r.referral_id)
    assert [e.detail for e in trail if e.action == "recommendation_tracked"] == [
        f"{r.referral_id}-R1",
        f"{r.referral_id}-R2",
    ]


async def test_the_closing_move_and_the_recommendation_starts_are_one_record_write(
    reviews: PeerReviewClient, store: RecordsStore
) -> None:
    """Once a review closes, its record waits for the recommendation starts, so the sign-off and the notes of what
    it started go to the records database in one batch (one activity) rather than two."""
    r = await reviewed(reviews)
    # Nothing in flight: without the hold, the sign-off would be written at once and the notes after it.
    await settle(reviews, store, r.referral_id)
    await reviews.act(r.referral_id, ActionName.SIGN_OFF, Decision(actor=CHAIR))
    review = reviews.client.get_workflow_handle(f"peer-review-{r.referral_id}")
    await review.result()
    events = (await review.fetch_history()).events
    signed = next(
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name == ActionName.SIGN_OFF
    )
    writes_after = [
        e
        for e in events
        if e.event_id > signed
        and e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == RECORD_BATCH
    ]
    assert len(writes_after) == 1
    await assert_records_match(reviews, store, r.referral_id)
    trail = await reviews.audit_trail(r.referral_id)
    actions = [e.action for e in trail]
    closing = actions[actions.index("sign_off") :]
    assert closing.count("notification_sent") == 3 and closing[-2:] == ["recommendation_tracked"] * 2


async def test_a_review_closed_again_tracks_no_second_item(reviews: PeerReviewClient, store: RecordsStore) -> None:
    """A review reset to the step that started its recommendations (as an operator retrying a close would) makes
    that start again: it is refused by id and noted, and each recommendation keeps its one workflow and row."""
    r = await signed_off(reviews)
    review = reviews.client.get_workflow_handle(f"peer-review-{r.referral_id}")
    await review.result()
    first_runs = {}
    for position in (1, 2):
        rec_id = recommendation_id(r.referral_id, position)
        await tracked(reviews, rec_id)
        first_runs[rec_id] = (await reviews.client.get_workflow_handle(f"recommendation-{rec_id}").describe()).run_id
    history = await review.fetch_history()
    started = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_task_completed_event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ]
    assert len(started) == 2
    reset = await reviews.client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=reviews.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=review.id, run_id=history.run_id),
            reason="closing again",
            workflow_task_finish_event_id=min(started),
            request_id=str(uuid.uuid4()),
        )
    )
    await reviews.client.get_workflow_handle(review.id, run_id=reset.run_id).result()
    trail = await reviews.audit_trail(r.referral_id)
    assert [e.detail for e in trail if e.action == "recommendation_tracked"] == [
        f"{r.referral_id}-R1 (already tracked)",
        f"{r.referral_id}-R2 (already tracked)",
    ]
    for rec_id, run_id in first_runs.items():
        runs = [
            execution.run_id
            async for execution in reviews.client.list_workflows(f"WorkflowId = 'recommendation-{rec_id}'")
        ]
        assert runs == [run_id]
    async with store.engine.connect() as connection:
        rows = await connection.execute(
            select(recommendations.c.recommendation_id, func.count())
            .where(recommendations.c.referral_id == r.referral_id)
            .group_by(recommendations.c.recommendation_id)
            .order_by(recommendations.c.recommendation_id)
        )
        assert [tuple(row) for row in rows] == [(f"{r.referral_id}-R1", 1), (f"{r.referral_id}-R2", 1)]


async def test_a_signed_off_review_leaves_its_stays_and_closure_for_the_reports(
    reviews: PeerReviewClient, store: RecordsStore
) -> None:
    """Written by the real worker, the records hold what the reports read: each stay of the review (the database
    pairs its moves as they are appended) and when it closed, the moment of its move into `closed`."""
    r = await signed_off(reviews)
    await reviews.client.get_workflow_handle(f"peer-review-{r.referral_id}").result()
    record = await store.audit_record(r.referral_id)
    assert record is not None
    closing = [e.event.at for e in record.events if e.event.to_status == "closed"]
    async with store.engine.connect() as connection:
        closed_at = (
            await connection.execute(select(referrals.c.closed_at).where(referrals.c.referral_id == r.referral_id))
        ).scalar_one()
        stays = (
            await connection.execute(
                select(status_spans.c.status)
                .where(status_spans.c.record_id == r.referral_id)
                .order_by(status_spans.c.entered_at)
            )
        ).all()
    assert closed_at is not None and closed_at.replace(tzinfo=UTC) == closing[0]
    assert [row[0] for row in stays] == [
        "referred",
        "triage",
        "awaiting_chair_decision",
        "awaiting_reviewer",
        "under_review",
        "awaiting_sign_off",
    ]
