"""For the retention tests: a fresh records database (SQLite, or a new PostgreSQL database), closing reviews on the
real worker, and running the retention workflow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Status, Withdrawal
from peer_review.domain.retention import RetentionRequest, RetentionResult
from peer_review.records.read_model import review_record
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.names import RECORDS_QUEUE_SUFFIX, RETENTION_WORKFLOW
from tests.helpers.factories import referral
from tests.helpers.postgres import fresh_postgres, postgres_url
from tests.helpers.staff import REFERRER
from tests.helpers.temporal import triaged


@asynccontextmanager
async def records_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
        return
    async with fresh_postgres(postgres_url()) as url:
        yield url


@dataclass(frozen=True)
class RetentionStack:
    settings: Settings
    store: RecordsStore
    reviews: PeerReviewClient


@asynccontextmanager
async def past_retention_at_once(client: Client, settings: Settings, url: str) -> AsyncIterator[RetentionStack]:
    """The records database at `url` with its schema, and settings with a retention period of 0 years, so every
    review closed before a run's "now" is past retention; the store is closed afterwards."""
    settings = settings.model_copy(update={"records_url": url, "retention_years": 0})
    store = RecordsStore.from_url(url)
    await store.create_schema()
    try:
        yield RetentionStack(settings, store, PeerReviewClient(client, settings))
    finally:
        await store.close()


async def closed_review(reviews: PeerReviewClient, store: RecordsStore) -> str:
    """A review withdrawn by its referrer, recorded as closed."""
    r = referral("persistent")
    await reviews.refer(r)
    await triaged(reviews, r.referral_id)
    await reviews.act(r.referral_id, ActionName.WITHDRAW, Withdrawal(actor=REFERRER, reason="Resolved locally"))
    await recorded_status(store, r.referral_id, Status.CLOSED)
    return r.referral_id


async def recorded_status(store: RecordsStore, referral_id: str, status: Status) -> None:
    for _ in range(300):
        record = await review_record(store, referral_id)
        if record is not None and record.row.status is status:
            # The closing batch is in; anything after the closing move may follow in one more.
            await asyncio.sleep(0.3)
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{referral_id} was never recorded as {status}")


async def run_retention(
    client: Client, settings: Settings, request: RetentionRequest, run_id: str | None = None
) -> RetentionResult:
    result: RetentionResult = await client.execute_workflow(
        RETENTION_WORKFLOW,
        request,
        id=run_id or f"retention-test-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue + RECORDS_QUEUE_SUFFIX,
        result_type=RetentionResult,
    )
    return result
