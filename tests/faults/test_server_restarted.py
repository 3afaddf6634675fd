"""Fault 2: the Temporal server stops and starts again (same database file) while reviews wait on people:
first a clean stop (SIGTERM), then a crash (SIGKILL), on the same reviews."""

from __future__ import annotations

import asyncio
import signal

from peer_review.domain.models import Outcome, Referral, Status, StatusView
from peer_review.records.store import RecordsStore
from peer_review.temporal.client import PeerReviewClient
from tests.faults.conftest import StoreOpener
from tests.helpers.reviews import (
    Step,
    assert_all_recorded,
    each,
    finished,
    full_path,
    refer_all,
    referrals,
    settle,
    take_steps,
)
from tests.helpers.stack import Stack, review_count, time_limit

DOWN_FOR = 5.0  # seconds with no server: long enough for every poll and every client call to notice


def stages(batch: list[Referral]) -> list[dict[str, list[Step]]]:
    """Each review's steps before the first outage (none, one or two, so reviews wait in every status), between
    the outages (one more), and after."""
    cuts = {r.referral_id: (i % 3, i % 3 + 1) for i, r in enumerate(batch)}
    return [
        {r.referral_id: full_path(r)[: cuts[r.referral_id][0]] for r in batch},
        {r.referral_id: full_path(r)[slice(*cuts[r.referral_id])] for r in batch},
        {r.referral_id: full_path(r)[cuts[r.referral_id][1] :] for r in batch},
    ]


def comparable(view: StatusView) -> tuple[str, list[tuple[str, str]]]:
    """Status and deadlines: what a restart must not change."""
    return view.status.value, [(d.status.value, d.due_at.isoformat()) for d in view.deadlines]


async def restart(
    stack: Stack, reviews: PeerReviewClient, store: RecordsStore, batch: list[Referral], how: signal.Signals
) -> None:
    """Stop the server while every review is quiet, start it again, and check nothing changed."""
    await each(batch, lambda r: settle(reviews, store, r.referral_id))
    before = await each(batch, lambda r: reviews.status(r.referral_id))
    # Each open review waits on a person with its deadline timer running (working days away: none fires here).
    assert all(v.deadlines for v in before if v.status is not Status.CLOSED)
    stack.server.stop(how)
    await asyncio.sleep(DOWN_FOR)
    assert stack.worker.process is not None and stack.worker.process.poll() is None, "the worker gave up"
    await stack.server.start()
    after = await each(batch, lambda r: reviews.status(r.referral_id))
    assert [comparable(v) for v in after] == [comparable(v) for v in before]


@time_limit(360)
async def test_reviews_survive_a_server_stop_and_a_crash_and_decisions_go_on(
    stack: Stack, open_store: StoreOpener
) -> None:
    reviews = await stack.client()
    store = open_store(stack)
    batch = referrals(review_count())
    await refer_all(reviews, batch)
    first, between, last = stages(batch)

    await each(batch, lambda r: take_steps(reviews, r, first[r.referral_id]))
    await restart(stack, reviews, store, batch, signal.SIGTERM)
    await each(batch, lambda r: take_steps(reviews, r, between[r.referral_id]))
    await restart(stack, reviews, store, batch, signal.SIGKILL)
    await each(batch, lambda r: take_steps(reviews, r, last[r.referral_id]))

    views = await each(batch, lambda r: finished(reviews, r.referral_id))
    assert {(v.status, v.outcome) for v in views} == {(Status.CLOSED, Outcome.COMPLETED)}
    await assert_all_recorded(reviews, store, batch)
