"""Real mail: an aiosmtpd server started by the test, the real worker sending over SMTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import select
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities, NotificationDesk, mailer_from
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, FindingsSubmission, Notifications, Withdrawal
from peer_review.records.outbox import outbox_statuses
from peer_review.records.schema import notifications
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.names import NOTIFY, RECORD_BATCH
from tests.helpers import (
    EXAMPLES,
    assert_eventually,
    chain_keys,
    findings,
    free_port,
    new_worker,
    queued_message,
    refer_triaged,
    referral,
    triaged,
    under_review,
)
from tests.helpers.mail import Inbox, MailServer, message_id
from tests.helpers.reviews import activity_attempts

SMTP_WAIT = timedelta(seconds=30)  # a mail retried after an outage arrives on the second attempt, 5 s later


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def mail_server(inbox: Inbox, smtp_port: int) -> Iterator[MailServer]:
    with MailServer(inbox, smtp_port) as server:
        yield server  # stopped afterwards, unless a test stopped it


@pytest.fixture
def smtp_settings(settings: Settings, smtp_port: int, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "notify": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "notify_give_up_hours": 24.0,
            "directory": EXAMPLES / "directory.yaml",
        }
    )


async def outbox(store: RecordsStore, referral_id: str) -> dict[str, str]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(
            select(notifications.c.recipient, notifications.c.step, notifications.c.status).where(
                notifications.c.referral_id == referral_id
            )
        )
        return {f"{row.step}:{row.recipient}": row.status for row in rows}


RECOMMENDATION_MAIL = "A Peer Review recommendation is yours to accept or decline"


async def test_the_right_people_get_the_right_mail_and_no_case_details(
    client: Client, smtp_settings: Settings, store: RecordsStore, mail_server: MailServer, inbox: Inbox
) -> None:
    reviews = PeerReviewClient(client, smtp_settings)
    secret = f"SECRET-{uuid.uuid4().hex}"
    r = referral("complex-issue", summary=f"Summary {secret}", issues_raised=[f"Issue {secret}"])

    def subjects(address: str) -> list[str]:
        return [s.split("] ", 1)[1] for s in inbox.to(address) if r.referral_id in s]

    async with new_worker(client, smtp_settings, store):
        await reviews.refer(r)
        await triaged(reviews, r.referral_id)
        await under_review(reviews, r.referral_id)
        covered = findings(
            issues_addressed=[{"issue": f"Issue {secret}", "addressed": True}],
        )
        await reviews.act(r.referral_id, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor="S400", findings=covered))
        await reviews.act(r.referral_id, ActionName.SIGN_OFF, Decision(actor="S100"))
        await client.get_workflow_handle(f"peer-review-{r.referral_id}").result()

        async def owners_told() -> None:
            # Each recommendation is tracked by a workflow of its own, which runs on after the review and tells
            # its owner's contacts at once: the Leeds team (S302) locally, the complaints policy team (S600).
            assert RECOMMENDATION_MAIL in subjects("kay.caseworker@example.gov.uk")
            assert subjects("nat.lead@example.gov.uk") == [RECOMMENDATION_MAIL]

        await assert_eventually(owners_told, within=timedelta(seconds=30))

    assert sorted(subjects("ann.chair@example.gov.uk")) == sorted(
        [
            "A Peer Review referral needs your decision",
            "A Peer Review needs a reviewer",
            "Peer Review findings are ready for sign-off",
        ]
    )
    assert sorted(subjects("cal.worker@example.gov.uk")) == sorted(
        ["Your Peer Review referral was approved", "A Peer Review has closed"]
    )
    assert sorted(subjects("rob.peer@example.gov.uk")) == sorted(
        ["You have been assigned a Peer Review", "A Peer Review has closed"]
    )
    # The Leeds team's contact (the site whose practice was reviewed) is told where to read the feedback.
    assert sorted(subjects("kay.caseworker@example.gov.uk")) == sorted(
        ["A Peer Review of your site's practice has closed", RECOMMENDATION_MAIL]
    )
    mine = [m for m in inbox.messages if r.referral_id in str(m["Subject"])]
    assert len(mine) == 8 + 2
    # One delivery for everything a record write queued, never one per message: the approval tells two people and
    # the sign-off three, and moves recorded together are delivered together.
    attempts = await activity_attempts(reviews, r.referral_id)
    deliveries = [a for a in attempts if a.activity == NOTIFY]
    record_writes = [a for a in attempts if a.activity == RECORD_BATCH]
    assert 1 <= len(deliveries) <= len(record_writes) and len(deliveries) < 8
    for message in mine:
        body = message.get_payload(decode=True)
        assert isinstance(body, bytes)
        text = body.decode()
        assert r.referral_id in text and "What to do next" in text
        if "has closed" in str(message["Subject"]):
            # Where to read the outcome, never what it is.
            assert f"/feedback/{r.referral_id}" in text and "Acknowledge within" not in text
        for private in (secret, r.summary, r.customer.reference, r.case_reference):
            assert private not in text and private not in str(message["Subject"])
        assert message["Message-ID"].startswith(f"<{r.referral_id}")
    assert set((await outbox(store, r.referral_id)).values()) == {"sent"}
    # Each message has two events: queued with the record of its move, and sent when the delivery did so.
    record = await store.audit_record(r.referral_id)
    assert record is not None and record.verify(chain_keys()).valid
    trail = [row.event for row in record.events]
    queued = sorted(e.detail or "" for e in trail if e.action == "notification_queued")
    sent = sorted(e.detail or "" for e in trail if e.action == "notification_sent")
    assert len(queued) == 8 and all(detail.endswith(": queued for delivery by SMTP") for detail in queued)
    assert [detail.replace("queued for delivery", "sent") for detail in queued] == sent


async def test_an_external_recipient_is_refused_and_audited(
    client: Client, smtp_settings: Settings, store: RecordsStore, mail_server: MailServer, inbox: Inbox
) -> None:
    reviews = PeerReviewClient(client, smtp_settings)
    async with new_worker(client, smtp_settings, store):
        ref = await refer_triaged(reviews, referred_by="S900")  # S900's address is at contractor.example.com
        await reviews.act(ref, ActionName.DECLINE, Decision(actor="S100", rationale="Not needed"))
        await client.get_workflow_handle(f"peer-review-{ref}").result()
        trail = await reviews.audit_trail(ref)
    refused = [e for e in trail if e.action == "notification_refused"]
    assert len(refused) == 1 and "S900" in (refused[0].detail or "") and "outside" in (refused[0].detail or "")
    assert not [m for m in inbox.messages if "contractor" in str(m["To"])]
    assert (await outbox(store, ref))["referral_declined:S900"] == "refused"


async def test_a_mail_outage_never_holds_up_a_decision_and_mail_arrives_once_after(
    client: Client, smtp_settings: Settings, store: RecordsStore, mail_server: MailServer, inbox: Inbox
) -> None:
    reviews = PeerReviewClient(client, smtp_settings)
    mail_server.stop()
    async with new_worker(client, smtp_settings, store):
        ref = await refer_triaged(reviews)
        view = await asyncio.wait_for(
            reviews.act(ref, ActionName.DECLINE, Decision(actor="S100", rationale="Handled")), 5
        )
        assert view.status == "closed"

        async def retrying() -> None:
            assert await statuses(store, ref) == {"retrying"}

        await assert_eventually(retrying, within=SMTP_WAIT)
        mail_server.start()  # the same inbox, on the same port
        await client.get_workflow_handle(f"peer-review-{ref}").result()
    delivered = sorted(str(m["Subject"]) for m in inbox.messages if ref in str(m["Subject"]))
    # Each arrives exactly once, after the server came back.
    assert delivered == [
        f"[Peer Review {ref}] A Peer Review referral needs your decision",
        f"[Peer Review {ref}] Your Peer Review referral was declined",
    ]
    assert await statuses(store, ref) == {"sent"}


async def test_every_message_of_a_delivery_waits_for_its_retry_in_an_outage(
    smtp_settings: Settings, store: RecordsStore, mail_server: MailServer, inbox: Inbox
) -> None:
    # Moves recorded together (a decision made while the referral's own record was still being written) are
    # delivered together; the first refused connection fails the attempt before the second message is tried.
    desk = NotificationDesk(
        directory=smtp_settings.directory, internal_domains=smtp_settings.internal_domains, mailer_configured=True
    )
    delivery = NotificationActivities(
        desk=desk, store=store, sender=smtp_settings.smtp_from, mailer=mailer_from(smtp_settings)
    )
    batch = Notifications(
        requests=[queued_message(2, "decision_needed", "S100"), queued_message(5, "referral_declined", "S300")]
    )
    keys = [r.idempotency_key for r in batch.requests]
    mail_server.stop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await ActivityEnvironment().run(delivery.notify, batch)
    assert await outbox_statuses(store, keys) == dict.fromkeys(keys, "retrying")
    mail_server.start()
    outcomes = await ActivityEnvironment().run(delivery.notify, batch)
    assert [o.detail for o in outcomes.outcomes] == ["sent by SMTP"] * 2
    assert await outbox_statuses(store, keys) == dict.fromkeys(keys, "sent")
    assert sorted(str(m["Message-ID"]) for m in inbox.messages) == sorted(message_id(key) for key in keys)


async def test_mail_that_cannot_be_delivered_is_given_up_and_audited(
    client: Client, smtp_settings: Settings, store: RecordsStore, mail_server: MailServer
) -> None:
    settings = smtp_settings.model_copy(update={"notify_give_up_hours": 3 / 3600})  # three seconds
    reviews = PeerReviewClient(client, settings)
    mail_server.stop()
    async with new_worker(client, settings, store):
        ref = await refer_triaged(reviews)
        view = await reviews.act(ref, ActionName.WITHDRAW, Withdrawal(actor="S300", reason="Resolved"))
        assert view.status == "closed"
        await client.get_workflow_handle(f"peer-review-{ref}").result()
        trail = await reviews.audit_trail(ref)
    failed = [e.detail for e in trail if e.action == "notification_failed"]
    assert sorted(detail or "" for detail in failed) == [
        "decision_needed to S100: gave up: not delivered within the retry period",
        "review_closed to S300: gave up: not delivered within the retry period",
    ]
    assert await statuses(store, ref) == {"failed"}
    record = await store.audit_record(ref)
    assert record is not None and record.verify(chain_keys()).valid
    assert [row.event.action for row in record.events].count("notification_failed") == 2


async def statuses(store: RecordsStore, referral_id: str) -> set[str]:
    return set((await outbox(store, referral_id)).values())
