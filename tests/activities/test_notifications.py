"""Real mail: an aiosmtpd server started by the test, the real worker sending over SMTP."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from temporalio.client import Client

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, FindingsSubmission, Withdrawal
from peer_review.records.schema import notifications
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from tests.helpers import (
    EXAMPLES,
    assert_eventually,
    chain_keys,
    findings,
    new_worker,
    referral,
    triaged,
    under_review,
)

SMTP_WAIT = 30.0  # seconds; a mail retried after an outage arrives on the second attempt, 5 s later


class Inbox:
    """Collects every message the SMTP server accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[str]:
        return [str(m["Subject"]) for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def mail_server(inbox: Inbox, smtp_port: int) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield controller
    if controller._thread is not None:  # still running unless a test stopped it
        controller.stop()


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
    client: Client, smtp_settings: Settings, store: RecordsStore, mail_server: Controller, inbox: Inbox
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


async def test_an_external_recipient_is_refused_and_audited(
    client: Client, smtp_settings: Settings, store: RecordsStore, mail_server: Controller, inbox: Inbox
) -> None:
    reviews = PeerReviewClient(client, smtp_settings)
    r = referral("persistent", referred_by="S900")  # S900's address is at contractor.example.com
    async with new_worker(client, smtp_settings, store):
        await reviews.refer(r)
        await triaged(reviews, r.referral_id)
        await reviews.act(r.referral_id, ActionName.DECLINE, Decision(actor="S100", rationale="Not needed"))
        await client.get_workflow_handle(f"peer-review-{r.referral_id}").result()
        trail = await reviews.audit_trail(r.referral_id)
    refused = [e for e in trail if e.action == "notification_refused"]
    assert len(refused) == 1 and "S900" in (refused[0].detail or "") and "outside" in (refused[0].detail or "")
    assert not [m for m in inbox.messages if "contractor" in str(m["To"])]
    assert (await outbox(store, r.referral_id))["referral_declined:S900"] == "refused"


async def test_a_mail_outage_never_holds_up_a_decision_and_mail_arrives_once_after(
    client: Client, smtp_settings: Settings, store: RecordsStore, mail_server: Controller, inbox: Inbox, smtp_port: int
) -> None:
    reviews = PeerReviewClient(client, smtp_settings)
    r = referral("persistent")
    mail_server.stop()
    async with new_worker(client, smtp_settings, store):
        await reviews.refer(r)
        await triaged(reviews, r.referral_id)
        view = await asyncio.wait_for(
            reviews.act(r.referral_id, ActionName.DECLINE, Decision(actor="S100", rationale="Handled")), 5
        )
        assert view.status == "closed"
        await eventually_async(lambda: statuses(store, r.referral_id), {"retrying"})
        revived = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        revived.start()
        try:
            await client.get_workflow_handle(f"peer-review-{r.referral_id}").result()
        finally:
            revived.stop()
    delivered = sorted(str(m["Subject"]) for m in inbox.messages if r.referral_id in str(m["Subject"]))
    # Each arrives exactly once, after the server came back.
    assert delivered == [
        f"[Peer Review {r.referral_id}] A Peer Review referral needs your decision",
        f"[Peer Review {r.referral_id}] Your Peer Review referral was declined",
    ]
    assert await statuses(store, r.referral_id) == {"sent"}


async def test_mail_that_cannot_be_delivered_is_given_up_and_audited(
    client: Client, smtp_settings: Settings, store: RecordsStore, mail_server: Controller
) -> None:
    settings = smtp_settings.model_copy(update={"notify_give_up_hours": 3 / 3600})  # three seconds
    reviews = PeerReviewClient(client, settings)
    r = referral("persistent")
    mail_server.stop()
    async with new_worker(client, settings, store):
        await reviews.refer(r)
        await triaged(reviews, r.referral_id)
        view = await reviews.act(r.referral_id, ActionName.WITHDRAW, Withdrawal(actor="S300", reason="Resolved"))
        assert view.status == "closed"
        await client.get_workflow_handle(f"peer-review-{r.referral_id}").result()
        trail = await reviews.audit_trail(r.referral_id)
    failed = [e.detail for e in trail if e.action == "notification_failed"]
    assert sorted(detail or "" for detail in failed) == [
        "decision_needed to S100: gave up: not delivered within the retry period",
        "review_closed to S300: gave up: not delivered within the retry period",
    ]
    assert await statuses(store, r.referral_id) == {"failed"}
    record = await store.audit_record(r.referral_id)
    assert record is not None and record.verify(chain_keys()).valid
    assert [row.event.action for row in record.events].count("notification_failed") == 2


async def statuses(store: RecordsStore, referral_id: str) -> set[str]:
    return set((await outbox(store, referral_id)).values())


async def eventually_async(read: Callable[[], Awaitable[set[str]]], expected: set[str]) -> None:
    deadline = asyncio.get_running_loop().time() + SMTP_WAIT
    while (seen := await read()) != expected:
        assert asyncio.get_running_loop().time() < deadline, f"outbox stayed {seen}, expected {expected}"
        await asyncio.sleep(0.05)
