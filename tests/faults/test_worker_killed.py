"""Fault 1: the worker process is killed (kill -9) mid-way; a new one finishes every review, nothing lost.

The mail server is slow, so the kill is sure to catch notification deliveries mid-send (record writes and look-ups
take milliseconds, and on a fast machine a kill can fall between them); the new worker must try those again."""

from __future__ import annotations

import asyncio
import time

from peer_review.domain.models import Outcome, Referral, Status
from peer_review.temporal.client import PeerReviewClient
from tests.faults.conftest import Launch, StoreOpener
from tests.helpers import free_port
from tests.helpers.mail import Inbox, MailServer
from tests.helpers.reviews import assert_all_recorded, each, finished, full_path, refer_all, referrals, retried
from tests.helpers.stack import review_count, time_limit

# An activity running on the killed worker is retried only once its timeout has passed (records 10 s; a notification
# delivery when its 5 s heartbeat is missed): allow that with a wide margin for a loaded two-core machine.
RECOVERY = 120.0
SLOW_MAIL = 1.0  # seconds the mail server takes per message


class Progress:
    """Counts steps taken across all reviews, so the kill lands mid-way rather than at a fixed time."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.halfway = asyncio.Event()

    def step(self) -> None:
        self.done += 1
        if self.done * 2 >= self.total:
            self.halfway.set()


async def drive(reviews: PeerReviewClient, r: Referral, progress: Progress) -> None:
    for action, payload in full_path(r):
        await reviews.act(r.referral_id, action, payload)
        progress.step()


@time_limit(420)
async def test_a_killed_worker_is_replaced_and_every_review_completes(launch: Launch, open_store: StoreOpener) -> None:
    inbox = Inbox(delay=SLOW_MAIL)
    with MailServer(inbox, free_port()) as mail:
        stack = await launch(notify="smtp", smtp_host="127.0.0.1", smtp_port=mail.port)
        reviews = await stack.client()
        batch = referrals(review_count())
        await refer_all(reviews, batch)
        progress = Progress(sum(len(full_path(r)) for r in batch))

        driving = asyncio.ensure_future(each(batch, lambda r: drive(reviews, r, progress)))
        await asyncio.wait_for(progress.halfway.wait(), RECOVERY)
        await inbox.sends_under_way(1)
        stack.worker.kill()  # with updates in flight and activities running
        killed_at = progress.done
        await asyncio.sleep(1)  # a moment with no worker at all: tasks queue up at the server
        await stack.worker.start()
        began = time.monotonic()
        await asyncio.wait_for(driving, RECOVERY)

        views = await each(batch, lambda r: finished(reviews, r.referral_id, RECOVERY))
        recovered = time.monotonic() - began
    assert {(v.status, v.outcome) for v in views} == {(Status.CLOSED, Outcome.COMPLETED)}
    await assert_all_recorded(reviews, open_store(stack), batch)
    # Proof that the kill interrupted work: some activity had to be tried again on the new worker.
    again = await retried(reviews, batch)
    assert again, "no activity was running when the worker was killed"
    print(f"killed after {killed_at}/{progress.total} steps; all completed {recovered:.1f}s after the restart;")
    print(f"tried again: {', '.join(sorted(again))}")
