"""A review's page and status read the recorded view while Temporal's search attributes agree with it, and ask the
workflow (a query) only when they do not: a query of a review out of the worker's cache replays its history."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import update
from temporalio.client import Client

from peer_review.domain.models import Status
from peer_review.records import read_model
from peer_review.records.schema import referrals
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal import search_attributes as sa
from peer_review.temporal.client import PeerReviewClient, workflow_id
from peer_review.web.app import create_app
from tests.helpers import CHAIR, eventually, new_worker, refer_triaged
from tests.helpers.web import api_settings, as_

# Long enough for any page; far shorter than a query left waiting for a worker.
PROMPT = 10


async def test_the_recorded_view_answers_while_temporal_agrees_and_the_workflow_when_it_does_not(
    client: Client, settings: Settings, store: RecordsStore
) -> None:
    reviews = PeerReviewClient(client, settings)
    app = create_app(settings, api_settings(), reviews=reviews, store=store)
    async with new_worker(client, settings, store):
        referral_id = await refer_triaged(reviews, "complex-issue")
        live = await reviews.status(referral_id)

        async def recorded_and_agreeing() -> bool | None:
            recorded = await read_model.recorded_view(store, referral_id)
            published = (await client.get_workflow_handle(workflow_id(referral_id)).describe()).typed_search_attributes
            return True if recorded == live and sa.agrees(published, recorded) else None

        await eventually(recorded_and_agreeing, "the record to catch up with the workflow")

    # No worker now, so a query could not be answered: the page and the status come from the record.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages.test") as browser:
        page = await asyncio.wait_for(browser.get(f"/chair/reviews/{referral_id}", headers=as_(CHAIR)), PROMPT)
        assert page.status_code == 200 and "Awaiting Chair decision" in page.text
        assert "Temporal is not answering" not in page.text
        status = await asyncio.wait_for(browser.get(f"/referrals/{referral_id}", headers=as_(CHAIR)), PROMPT)
        assert status.status_code == 200 and status.json() == live.model_dump(mode="json")

        # A record behind the workflow (as while a batch is on its way) is not shown: the workflow answers.
        behind = live.model_copy(update={"status": Status.TRIAGE, "deadlines": []})
        async with store.transaction() as connection:
            await connection.execute(
                update(referrals)
                .where(referrals.c.referral_id == referral_id)
                .values(view_json=behind.model_dump_json())
            )
        async with new_worker(client, settings, store):
            status = await browser.get(f"/referrals/{referral_id}", headers=as_(CHAIR))
        assert status.status_code == 200 and status.json()["status"] == Status.AWAITING_CHAIR_DECISION.value
