"""Fault 3: the records database is unusable for a while; decisions go on and the records catch up, once each."""

from __future__ import annotations

import asyncio
import os
import time

from peer_review.domain.models import Outcome, Status
from peer_review.records.store import SQLITE_BUSY_TIMEOUT_SECONDS
from peer_review.temporal.names import RECORD_BATCH
from tests.faults.conftest import Launch, StoreOpener
from tests.helpers.reviews import (
    assert_all_recorded,
    each,
    finished,
    full_path,
    pending_activities,
    refer_all,
    referrals,
    retried,
    settle,
    take_steps,
    take_steps_within,
)
from tests.helpers.stack import DatabaseLock, review_count, showing_worker_log

# When a record write gives up on the lock (SQLite's busy timeout), in seconds, counted from the move (its messages'
# outbox rows are written in the same transaction).
WRITE_GIVES_UP = SQLITE_BUSY_TIMEOUT_SECONDS
# How long the lock stays after the last decision: longer than that, so writes do not merely wait: they fail, and
# are retried until the database answers again.
OUTAGE = float(os.environ.get("PEER_REVIEW_FAULT_DB_OUTAGE_SECONDS", str(WRITE_GIVES_UP + 5)))
# A decision must not wait for the database. One that did would not be answered while the lock is held, and the lock
# is held until every decision is answered and then for OUTAGE, so the bound per decision (take_steps_within) catches
# it.


# Records and notifications stuck on the locked database would take every activity slot of one worker (100), and
# the directory look-up that assigning a reviewer needs would wait behind them; they run on their own task queue.
async def test_decisions_go_on_while_the_records_database_is_locked(launch: Launch, open_store: StoreOpener) -> None:
    stack = await launch()
    reviews = await stack.client()
    batch = referrals(review_count())
    await refer_all(reviews, batch)
    store = open_store(stack)
    await each(batch, lambda r: settle(reviews, store, r.referral_id))

    lock = DatabaseLock(stack.records_path)
    await lock.hold()
    try:
        began = time.monotonic()
        # Two decisions each (the second, assigning a reviewer, reads the directory through an activity).
        with showing_worker_log(stack):
            taken = await each(batch, lambda r: take_steps_within(reviews, r, full_path(r)[:2]))
        decided = time.monotonic() - began
        assert {t.view.status for t in taken if t.view} <= {Status.UNDER_REVIEW, Status.AWAITING_SIGN_OFF}
        # Nothing can be written meanwhile: the records of every review are still to be made.
        assert all(await each(batch, lambda r: pending_activities(reviews, r.referral_id)))
        await asyncio.sleep(OUTAGE)
    finally:
        lock.release()

    await each(batch, lambda r: take_steps(reviews, r, full_path(r)[2:]))
    closed = await each(batch, lambda r: finished(reviews, r.referral_id, within=OUTAGE + 90))
    assert {(v.status, v.outcome) for v in closed} == {(Status.CLOSED, Outcome.COMPLETED)}
    await assert_all_recorded(reviews, store, batch)
    if OUTAGE > WRITE_GIVES_UP:
        assert RECORD_BATCH in await retried(reviews, batch), "the outage never made a record write fail"
    slowest = max(s for t in taken for s in t.seconds)
    print(f"{2 * len(batch)} decisions in {decided:.1f}s with the database locked; the slowest took {slowest:.1f}s")
