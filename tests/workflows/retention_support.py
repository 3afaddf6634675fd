"""Shared by the retention tests: a fresh records database (SQLite, or a new PostgreSQL database), closing reviews on
the real worker, and running the retention workflow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.client import Client

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Status, Withdrawal
from peer_review.domain.retention import RetentionRequest, RetentionResult
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.names import RECORDS_QUEUE_SUFFIX, RETENTION_WORKFLOW
from tests.conftest import postgres_url
from tests.helpers import referral, triaged

POSTGRES_FALLBACK = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_base() -> str | None:
    return postgres_url()


@asynccontextmanager
async def fresh_postgres(base: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards; yields its URL."""
    name = f"retention_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def records_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
        return
    base = postgres_base()
    assert base
    async with fresh_postgres(base) as url:
        yield url


async def closed_review(reviews: PeerReviewClient, store: RecordsStore) -> str:
    """A review withdrawn by its referrer, recorded as closed."""
    r = referral("persistent")
    await reviews.refer(r)
    await triaged(reviews, r.referral_id)
    await reviews.act(r.referral_id, ActionName.WITHDRAW, Withdrawal(actor="S300", reason="Resolved locally"))
    await recorded_status(store, r.referral_id, Status.CLOSED)
    return r.referral_id


async def recorded_status(store: RecordsStore, referral_id: str, status: Status) -> None:
    from peer_review.records.read_model import review_record

    for _ in range(300):
        record = await review_record(store, referral_id)
        if record is not None and record.row.status is status:
            # The closing batch is in; notification outcomes may follow in one more.
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
