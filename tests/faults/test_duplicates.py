"""Fault 6: the same referral started many times at once, and the same decision sent twice at once."""

from __future__ import annotations

import asyncio

from peer_review.domain.models import ChairDecision, Outcome, Referral, Status, StatusView
from peer_review.temporal.client import ActionRejected, PeerReviewClient, ReferResult
from tests.faults.conftest import StoreOpener
from tests.helpers import triaged
from tests.helpers.reviews import assert_all_recorded, each, finished, full_path, is_mandatory, referrals, take_steps
from tests.helpers.stack import Stack, review_count, time_limit

STARTS = 5  # concurrent starts of each referral
VISIBILITY_WAIT = 30.0  # list results are eventually consistent
APPROVAL = ChairDecision(actor="S100", decision="approve")


async def start_many(reviews: PeerReviewClient, r: Referral) -> list[ReferResult]:
    return list(await asyncio.gather(*(reviews.refer(r) for _ in range(STARTS))))


async def decide_twice(reviews: PeerReviewClient, r: Referral, *, signal_too: bool) -> list[object]:
    """The first step sent twice at once as updates and, if asked, once more as the `chair_decision` signal.

    Returns what the two updates got back; whether the signal won shows only in the audit trail.
    """
    action, payload = full_path(r)[0]
    updates = [reviews.act(r.referral_id, action, payload) for _ in range(2)]
    signals = [reviews.signal_chair_decision(r.referral_id, APPROVAL)] if signal_too else []
    results = await asyncio.gather(*updates, *signals, return_exceptions=True)
    return list(results[:2])


async def count_reviews(reviews: PeerReviewClient, expected: int) -> int:
    query = f"TaskQueue = '{reviews.settings.task_queue}'"
    deadline = asyncio.get_running_loop().time() + VISIBILITY_WAIT
    while (count := (await reviews.client.count_workflows(query)).count) < expected:
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    return count


@time_limit(300)
async def test_duplicate_starts_give_one_review_and_duplicate_decisions_apply_once(
    stack: Stack, open_store: StoreOpener
) -> None:
    reviews = await stack.client()
    batch = referrals(review_count())

    started = await each(batch, lambda r: start_many(reviews, r))
    assert all(sorted(s.already_started for s in starts) == [False] + [True] * (STARTS - 1) for starts in started)
    assert await count_reviews(reviews, len(batch)) == len(batch)

    await each(batch, lambda r: triaged(reviews, r.referral_id))
    # Every other Chair decision races a third request, the fire-and-forget signal, against the two updates.
    signalled = {r.referral_id for i, r in enumerate(batch) if i % 2 and not is_mandatory(r)}
    answers = await each(batch, lambda r: decide_twice(reviews, r, signal_too=r.referral_id in signalled))
    for r, (first, second) in zip(batch, answers, strict=True):
        applied = [a for a in (first, second) if isinstance(a, StatusView)]
        refused = [a for a in (first, second) if isinstance(a, ActionRejected)]
        assert len(applied) + len(refused) == 2, (first, second)
        # Applied by exactly one of the two updates, unless the signal got there first.
        assert len(applied) in ({0, 1} if r.referral_id in signalled else {1}), (first, second)
        assert all(str(a) for a in refused), "a refusal must say why"

    await each(batch, lambda r: take_steps(reviews, r, full_path(r)[1:]))
    views = await each(batch, lambda r: finished(reviews, r.referral_id))
    assert {(v.status, v.outcome) for v in views} == {(Status.CLOSED, Outcome.COMPLETED)}
    for r in batch:
        actions = [e.action for e in await reviews.audit_trail(r.referral_id)]
        raced = full_path(r)[0][0].value
        # Applied exactly once; each losing request (update or signal) refused and kept in the audit trail.
        assert actions.count(raced) == 1, actions
        assert actions.count(f"{raced}_rejected") == (2 if r.referral_id in signalled else 1), actions
    await assert_all_recorded(reviews, open_store(stack), batch)
