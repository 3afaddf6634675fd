"""Fault: the worker process is killed (kill -9) while the retention workflow is disposing of records in batches; a
new worker finishes the run. No review is lost (each is disposed of and certified exactly once) and nothing is
counted twice (the run's counts, read back from the database, match what was written)."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import WorkflowHandle

from benchmarks.closed_reviews import EVENTS_PER_REVIEW, write_closed_reviews
from peer_review.domain.register import EntryKind
from peer_review.domain.retention import RetentionRequest
from peer_review.records.retention import verify_all
from peer_review.records.schema import disposed_reviews, referrals, retention_register
from peer_review.records.store import RecordsStore
from peer_review.temporal.names import DISPOSE_BATCH
from peer_review.temporal.retention_schedule import run_retention
from tests.faults.conftest import Launch, StoreOpener
from tests.helpers import chain_key, chain_keys
from tests.helpers.stack import time_limit

# Few, large batches, so that each takes long enough for the kill to land inside one, with most of the work to do.
BATCH = 2000
REVIEWS = 3 * BATCH
# A batch on the killed worker is tried again once its heartbeat timeout (20 s) has passed; allow a margin.
RECOVERY = 180.0


async def count(store: RecordsStore, table: object, *where: object) -> int:
    async with store.engine.connect() as connection:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int((await connection.execute(query)).scalar_one())


async def certificates(store: RecordsStore) -> int:
    return await count(store, retention_register, retention_register.c.kind == EntryKind.DISPOSAL.value)


async def batch_running(handle: WorkflowHandle[Any, Any]) -> bool:
    description = await handle.describe()
    return any(
        pending.activity_type.name == DISPOSE_BATCH
        and pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        for pending in description.raw_description.pending_activities
    )


@time_limit(420)
async def test_a_worker_killed_mid_disposal_is_replaced_and_nothing_is_lost_or_counted_twice(
    launch: Launch, open_store: StoreOpener
) -> None:
    stack = await launch()
    store = open_store(stack)
    await store.create_schema()
    # Closed ten years ago: past the default retention period of seven years.
    closed_at = datetime.now(UTC) - timedelta(days=3660)
    ids = await write_closed_reviews(store, REVIEWS, closed_at=closed_at, key=chain_key())
    reviews = await stack.client()
    run_id = f"retention-fault-{uuid.uuid4().hex[:8]}"
    running = asyncio.ensure_future(
        run_retention(reviews.system, stack.settings, RetentionRequest(batch_size=BATCH), run_id)
    )

    handle = reviews.system.get_workflow_handle(run_id)
    began = time.monotonic()
    # After the first batch has committed, the kill lands while the next one is running on the worker.
    while await certificates(store) == 0 or not await batch_running(handle):
        assert time.monotonic() - began < RECOVERY, "no second batch was ever running"
        assert not running.done(), running
        await asyncio.sleep(0.01)
    stack.worker.kill()
    at_kill = await certificates(store)
    assert 0 < at_kill < REVIEWS, f"the kill came too late: {at_kill} of {REVIEWS} already disposed of"
    await asyncio.sleep(1)  # a moment with no worker at all
    await stack.worker.start()
    result = await asyncio.wait_for(running, RECOVERY)

    # Nothing lost, nothing counted twice: every review once, its rows counted once.
    assert (result.reviews, result.audit_events) == (REVIEWS, REVIEWS * EVENTS_PER_REVIEW)
    assert await certificates(store) == REVIEWS
    async with store.engine.connect() as connection:
        certified = (
            await connection.execute(
                select(retention_register.c.referral_id).where(retention_register.c.kind == EntryKind.DISPOSAL.value)
            )
        ).scalars()
        assert sorted(certified) == ids
    assert await count(store, disposed_reviews) == REVIEWS  # the learning reports' rows: one per review
    assert await count(store, referrals) == 0
    report = await verify_all(store, chain_keys())
    assert (report.valid, report.certificates, report.certificates_valid) == (True, REVIEWS, REVIEWS)

    # Proof that the kill interrupted a batch: one needed a second attempt (retries are not events of their own; the
    # attempt that completed is on its started event).
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    print(f"killed after {at_kill}/{REVIEWS} reviews disposed of; activity attempts {attempts}")
    assert max(attempts) > 1, "no batch was running when the worker was killed"
