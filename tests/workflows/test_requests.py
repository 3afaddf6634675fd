"""Requests as people send them: a retry is the same request, refusals are bounded, and a directory that does not
answer gives a plain refusal instead of a hang."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.lifecycle import REFUSALS_RECORDED_PER_DAY, ActionName, RejectionKind
from peer_review.domain.models import Decision, ReviewerAssignment, Status
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import ActionRejected, PeerReviewClient, ServiceUnavailable
from tests.helpers import EXAMPLES, new_worker, refer, refer_triaged, skipping_reviews, triaged, worker_settings
from tests.helpers.staff import CASEWORKER, CHAIR


async def test_a_retried_request_returns_the_first_result(reviews: PeerReviewClient) -> None:
    ref = await refer_triaged(reviews, "persistent")
    request = str(uuid.uuid4())
    approve = Decision(actor=CHAIR, rationale="Appropriate")
    first = await reviews.act(ref, ActionName.APPROVE, approve, request_id=request)
    # The answer was lost and the caller tries again: same request, same update, the first result.
    again = await reviews.act(ref, ActionName.APPROVE, approve, request_id=request)
    assert again == first and again.status is Status.AWAITING_REVIEWER
    trail = [e.action for e in await reviews.audit_trail(ref)]
    assert trail.count("approve") == 1 and "approve_rejected" not in trail
    # A new request is a new action, judged afresh.
    with pytest.raises(ActionRejected, match="awaiting_reviewer"):
        await reviews.act(ref, ActionName.APPROVE, approve, request_id=str(uuid.uuid4()))


async def test_refusals_beyond_the_daily_allowance_are_counted_not_recorded(reviews: PeerReviewClient) -> None:
    ref = await refer(reviews, "persistent")
    before = await triaged(reviews, ref)
    for _ in range(REFUSALS_RECORDED_PER_DAY + 5):
        with pytest.raises(ActionRejected) as refused:
            await reviews.act(ref, ActionName.APPROVE, Decision(actor=CASEWORKER))
        assert refused.value.kind is RejectionKind.NOT_PERMITTED
    trail = await reviews.audit_trail(ref)
    assert sum(e.action == "approve_rejected" for e in trail) == REFUSALS_RECORDED_PER_DAY
    assert await reviews.status(ref) == before
    # The review still acts for the people who may act.
    view = await reviews.act(ref, ActionName.APPROVE, Decision(actor=CHAIR))
    assert view.status is Status.AWAITING_REVIEWER


async def test_an_unanswering_directory_is_a_plain_refusal(skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    directory = tmp_path / "directory.yaml"
    directory.write_text((EXAMPLES / "directory.yaml").read_text())
    settings = worker_settings(tmp_path, directory=directory)
    store = RecordsStore.from_url(settings.records_url)
    await store.create_schema()
    reviews = skipping_reviews(skipping_env, settings)
    try:
        async with new_worker(skipping_env.client, settings, store):
            ref = await refer_triaged(reviews, "suicide")
            directory.unlink()  # every look-up now fails, and is retried
            assignment = ReviewerAssignment(actor=CHAIR, reviewer="S400")
            acting = asyncio.create_task(reviews.act(ref, ActionName.ASSIGN_REVIEWER, assignment))
            await skipping_env.sleep(timedelta(minutes=2))  # past the look-up's overall deadline
            with pytest.raises(ServiceUnavailable, match="the staff directory is unavailable, try again"):
                await acting
            assert (await reviews.status(ref)).status is Status.AWAITING_REVIEWER
    finally:
        await store.close()
