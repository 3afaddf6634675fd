"""Fault 5: SIGTERM while activities run; the worker finishes them within its grace period and exits 0."""

from __future__ import annotations

import asyncio

from peer_review.domain.models import Outcome, Status
from peer_review.temporal.names import NOTIFY
from tests.faults.conftest import Launch, StoreOpener
from tests.helpers import free_port
from tests.helpers.mail import Inbox, MailServer, message_id
from tests.helpers.reviews import (
    assert_all_recorded,
    cut_short,
    each,
    finished,
    full_path,
    outbox,
    refer_all,
    referrals,
    take_steps,
)
from tests.helpers.stack import review_count, time_limit

GRACE = 5.0  # PEER_REVIEW_SHUTDOWN_GRACE_SECONDS
SLOW_MAIL = 1.5  # seconds the mail server takes per message: activities are mid-send when the signal comes
EXIT_ALLOWANCE = 3.0  # process teardown after the grace period (interpreter and SDK runtime exit)


@time_limit(300)
async def test_sigterm_lets_running_activities_finish_and_a_new_worker_completes_the_rest(
    launch: Launch, open_store: StoreOpener
) -> None:
    inbox = Inbox(delay=SLOW_MAIL)
    with MailServer(inbox, free_port()) as mail:
        stack = await launch(notify="smtp", smtp_host="127.0.0.1", smtp_port=mail.port, shutdown_grace_seconds=GRACE)
        reviews = await stack.client()
        batch = referrals(review_count())
        await refer_all(reviews, batch)
        driving = asyncio.ensure_future(each(batch, lambda r: take_steps(reviews, r, full_path(r))))
        await inbox.sends_under_way(3)  # several, so the signal catches activities mid-flight

        code, took = stack.worker.terminate(timeout=GRACE + 30)
        assert code == 0, stack.worker.log()[-3000:]
        assert took <= GRACE + EXIT_ALLOWANCE, f"the worker took {took:.1f}s to stop (grace {GRACE}s)"

        await stack.worker.start()
        await asyncio.wait_for(driving, 120)
        views = await each(batch, lambda r: finished(reviews, r.referral_id))
    assert {(v.status, v.outcome) for v in views} == {(Status.CLOSED, Outcome.COMPLETED)}
    # Sends running at SIGTERM completed and were reported: none was cut short and tried again, none arrived twice.
    assert NOTIFY not in await cut_short(reviews, batch)
    store = open_store(stack)
    sent = await outbox(store, batch)
    received = inbox.message_ids(r.referral_id for r in batch)
    assert sorted(received) == sorted(message_id(key) for key in sent)
    assert max(received.values()) == 1
    await assert_all_recorded(reviews, store, batch)
    print(f"worker left {took:.1f}s after SIGTERM (grace {GRACE}s); {len(received)} messages, each once")
