"""What a record write does with a move's messages when the staff directory cannot be read, and how the delivery
settles them once it can: the record never waits for the directory, and no message is lost or refused for it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from temporalio.testing import ActivityEnvironment

from activities.notifications import DIRECTORY_UNAVAILABLE, NotificationActivities, NotificationDesk
from peer_review.domain.models import NotificationRequest, Notifications
from peer_review.records.outbox import outbox_statuses, queue_outbox
from peer_review.records.store import RecordsStore
from tests.helpers import EXAMPLES, queued_message

DOMAINS = ["example.gov.uk"]


def requests(*recipients: str) -> list[NotificationRequest]:
    return [queued_message(seq, "decision_needed", recipient) for seq, recipient in enumerate(recipients, start=2)]


def test_without_a_readable_directory_every_message_is_queued(tmp_path: Path) -> None:
    desk = NotificationDesk(directory=tmp_path / "missing.yaml", internal_domains=DOMAINS, mailer_configured=False)
    attempts = ActivityEnvironment().run(desk.first_attempts, requests("S100", "S900"))
    assert [(a.status, a.detail, a.entry.address) for a in attempts] == [("queued", DIRECTORY_UNAVAILABLE, None)] * 2
    assert all(a.outcome().queued and a.outcome().audit_action == "notification_queued" for a in attempts)


def test_with_the_directory_each_message_is_judged_when_recorded() -> None:
    desk = NotificationDesk(directory=EXAMPLES / "directory.yaml", internal_domains=DOMAINS, mailer_configured=False)
    attempts = ActivityEnvironment().run(desk.first_attempts, requests("S100", "S900", "NOBODY"))
    assert [a.status for a in attempts] == ["outbox", "refused", "refused"]


async def test_the_delivery_settles_what_was_queued_once_the_directory_answers(store: RecordsStore) -> None:
    queued = requests("S100", "S900")
    broken = NotificationDesk(directory=Path("/nonexistent.yaml"), internal_domains=DOMAINS, mailer_configured=False)
    async with store.transaction() as connection:
        await queue_outbox(connection, ActivityEnvironment().run(broken.first_attempts, queued), datetime.now(UTC))
    desk = NotificationDesk(directory=EXAMPLES / "directory.yaml", internal_domains=DOMAINS, mailer_configured=False)
    delivery = NotificationActivities(desk=desk, store=store, sender="peer-review@example.gov.uk", mailer=None)
    outcomes = await ActivityEnvironment().run(delivery.notify, Notifications(requests=queued))
    assert [(o.audit_action, o.detail) for o in outcomes.outcomes] == [
        ("notification_sent", "recorded in the outbox"),
        ("notification_refused", "refused: recipient is outside the internal domains"),
    ]
    keys = [r.idempotency_key for r in queued]
    assert await outbox_statuses(store, keys) == {keys[0]: "outbox", keys[1]: "refused"}
