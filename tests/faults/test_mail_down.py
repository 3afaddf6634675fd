"""Fault 4: the mail server is down when reviews start; decisions go on, and every message arrives once."""

from __future__ import annotations

import time

from peer_review.domain.models import Status
from peer_review.temporal.names import NOTIFY
from tests.faults.conftest import Launch, StoreOpener
from tests.helpers import free_port
from tests.helpers.mail import Inbox, MailServer, message_id
from tests.helpers.reviews import (
    assert_all_recorded,
    each,
    expected_outcome,
    finished,
    outbox,
    quick_path,
    refer_all,
    referrals,
    retried,
    take_steps_within,
)
from tests.helpers.stack import review_count, showing_worker_log, time_limit

# Delivery retries back off 5 s, 10 s, 20 s, 40 s: a message that failed three times waits up to 40 s more.
DELIVERY_WAIT = 120.0


@time_limit(360)
async def test_decisions_go_on_while_mail_is_down_and_each_message_arrives_once(
    launch: Launch, open_store: StoreOpener
) -> None:
    inbox = Inbox()
    mail = MailServer(inbox, free_port())  # nothing listens on the port yet
    stack = await launch(notify="smtp", smtp_host="127.0.0.1", smtp_port=mail.port)
    try:
        reviews = await stack.client()
        batch = referrals(review_count())
        began = time.monotonic()
        await refer_all(reviews, batch)
        with showing_worker_log(stack):
            await each(batch, lambda r: take_steps_within(reviews, r, quick_path(r)))
        decided = time.monotonic() - began
        assert not inbox.messages
        mail.start()
        views = await each(batch, lambda r: finished(reviews, r.referral_id, DELIVERY_WAIT))
    finally:
        mail.stop()
    assert [(v.status, v.outcome) for v in views] == [(Status.CLOSED, expected_outcome(r)) for r in batch]

    store = open_store(stack)
    sent = await outbox(store, batch)
    assert set(sent.values()) == {"sent"}
    received = inbox.message_ids(r.referral_id for r in batch)
    assert sorted(received) == sorted(message_id(key) for key in sent), "a message is missing or unexpected"
    assert max(received.values()) == 1, f"sent twice: {[m for m, n in received.items() if n > 1]}"
    assert NOTIFY in await retried(reviews, batch), "the mail server was never found down"
    await assert_all_recorded(reviews, store, batch)
    print(f"{len(batch)} reviews decided in {decided:.1f}s with mail down; {len(received)} messages, each once")
