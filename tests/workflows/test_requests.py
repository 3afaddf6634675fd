"""Requests as people send them: a retry is the same request, refusals are bounded, and a directory that does not
answer gives a plain refusal instead of a hang."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.lifecycle import REFUSALS_RECORDED_PER_DAY, ActionName, RejectionKind
from peer_review.domain.models import Decision, ReviewerAssignment, Status
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import ActionRejected, PeerReviewClient, ServiceUnavailable
from tests.helpers import EXAMPLES, TEST_KEY_FILE, new_worker, referral, skipping_reviews, triaged

CHAIR, CASEWORKER = "S100", "S302"


async def test_a_retried_request_returns_the_first_result(
    client: Client, settings: Settings, store: RecordsStore
) -> None:
    reviews = PeerReviewClient(client, settings)
    async with new_worker(client, settings, store):
        r = referral("persistent")
        await reviews.refer(r)
        await triaged(reviews, r.referral_id)
        request = str(uuid.uuid4())
        approve = Decision(actor=CHAIR, rationale="Appropriate")
        first = await reviews.act(r.referral_id, ActionName.APPROVE, approve, request_id=request)
        # The answer was lost and the caller tries again: same request, same update, the first result.
        again = await reviews.act(r.referral_id, ActionName.APPROVE, approve, request_id=request)
        assert again == first and again.status is Status.AWAITING_REVIEWER
        trail = [e.action for e in await reviews.audit_trail(r.referral_id)]
        assert trail.count("approve") == 1 and "approve_rejected" not in trail
        # A new request is a new action, judged afresh.
        with pytest.raises(ActionRejected, match="awaiting_reviewer"):
            await reviews.act(r.referral_id, ActionName.APPROVE, approve, request_id=str(uuid.uuid4()))


async def test_refusals_beyond_the_daily_allowance_are_counted_not_recorded(
    client: Client, settings: Settings, store: RecordsStore
) -> None:
    reviews = PeerReviewClient(client, settings)
    async with new_worker(client, settings, store):
        r = referral("persistent")
        await reviews.refer(r)
        before = await triaged(reviews, r.referral_id)
        for _ in range(REFUSALS_RECORDED_PER_DAY + 5):
            with pytest.raises(ActionRejected) as refused:
                await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor=CASEWORKER))
            assert refused.value.kind is RejectionKind.NOT_PERMITTED
        trail = await reviews.audit_trail(r.referral_id)
        assert sum(e.action == "approve_rejected" for e in trail) == REFUSALS_RECORDED_PER_DAY
        assert await reviews.status(r.referral_id) == before
        # The review still acts for the people who may act.
        view = await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor=CHAIR))
        assert view.status is Status.AWAITING_REVIEWER


async def test_an_unanswering_directory_is_a_plain_refusal(skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    directory = tmp_path / "directory.yaml"
    directory.write_text((EXAMPLES / "directory.yaml").read_text())
    settings = Settings(
        records_url=f"sqlite+aiosqlite:///{tmp_path / 'records.db'}",
        directory=directory,
        key_file=TEST_KEY_FILE,
        task_queue=f"tq-{uuid.uuid4()}",
    )
    store = RecordsStore.from_url(settings.records_url)
    await store.create_schema()
    reviews = skipping_reviews(skipping_env, settings)
    try:
        async with new_worker(skipping_env.client, settings, store):
            r = referral("suicide")
            await reviews.refer(r)
            await triaged(reviews, r.referral_id)
            directory.unlink()  # every look-up now fails, and is retried
            assignment = ReviewerAssignment(actor=CHAIR, reviewer="S400")
            acting = asyncio.create_task(reviews.act(r.referral_id, ActionName.ASSIGN_REVIEWER, assignment))
            await skipping_env.sleep(timedelta(minutes=2))  # past the look-up's overall deadline
            with pytest.raises(ServiceUnavailable, match="the staff directory is unavailable, try again"):
                await acting
            assert (await reviews.status(r.referral_id)).status is Status.AWAITING_REVIEWER
    finally:
        await store.close()
