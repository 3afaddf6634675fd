"""The notification outbox: one row per notification, whatever happened to it, for as long as records are kept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from peer_review.domain.models import NotificationOutcome
from peer_review.records.schema import notifications

if TYPE_CHECKING:
    from peer_review.records.store import RecordsStore


@dataclass(frozen=True)
class OutboxEntry:
    idempotency_key: str
    referral_id: str
    recipient: str
    address: str | None
    step: str
    subject: str
    body: str


# What became of a notification: kept in the outbox (no mailer), waiting for the mailer, sent by SMTP, to be
# retried, refused for good, or given up after the give-up period.
OutboxStatus = Literal["outbox", "queued", "sent", "retrying", "refused", "failed"]


@dataclass(frozen=True)
class Attempt:
    """One try at a notification, and the status its row takes."""

    entry: OutboxEntry
    status: OutboxStatus
    detail: str

    def outcome(self) -> NotificationOutcome:
        return outcome_of(self.entry, self.status, self.detail)


def outcome_of(entry: OutboxEntry, status: str, detail: str) -> NotificationOutcome:
    """What the workflow is told, and audits, of a notification whose row has this status."""
    return NotificationOutcome(
        idempotency_key=entry.idempotency_key,
        recipient=entry.recipient,
        delivered=status in ("sent", "outbox"),
        failed=status == "failed",
        queued=status in ("queued", "retrying"),
        detail=detail,
    )


async def outbox_statuses(store: RecordsStore, keys: Iterable[str]) -> dict[str, str]:
    """The status of each of these notifications that has a row, by idempotency key."""
    async with store.engine.connect() as connection:
        rows = await connection.execute(
            select(notifications.c.idempotency_key, notifications.c.status).where(
                notifications.c.idempotency_key.in_(list(keys))
            )
        )
        return {row.idempotency_key: row.status for row in rows}


async def save_outbox(store: RecordsStore, attempts: Sequence[Attempt]) -> None:
    """Record notification attempts in one transaction; one row per idempotency key, however often it is retried."""
    if not attempts:
        return
    now = datetime.now(UTC)
    async with store.transaction() as connection:
        tried_before = await _rows(connection, attempts)
        for attempt in attempts:
            key = attempt.entry.idempotency_key
            if key not in tried_before:
                await _insert(connection, attempt, now)
                continue
            await connection.execute(
                notifications.update()
                .where(notifications.c.idempotency_key == key)
                .values(
                    status=attempt.status,
                    # A message queued while the directory was unreadable gets its address when it is delivered.
                    address=attempt.entry.address,
                    detail=attempt.detail,
                    attempts=tried_before[key].attempts + 1,
                    updated_at=now,
                )
            )


async def queue_outbox(
    connection: AsyncConnection, attempts: Sequence[Attempt], now: datetime
) -> list[NotificationOutcome]:
    """Write the rows of a move's messages inside the transaction that records the move (the transactional outbox),
    and say what became of each, in order. A row written by an earlier attempt of the same batch stands as it is."""
    if not attempts:
        return []
    written = await _rows(connection, attempts)
    outcomes = []
    new_rows = []
    for attempt in attempts:
        row = written.get(attempt.entry.idempotency_key)
        if row is None:
            new_rows.append(_new_row(attempt, now))
            outcomes.append(attempt.outcome())
        else:
            outcomes.append(outcome_of(attempt.entry, row.status, row.detail or ""))
    if new_rows:
        await connection.execute(notifications.insert(), new_rows)
    return outcomes


async def _rows(connection: AsyncConnection, attempts: Sequence[Attempt]) -> dict[str, Any]:
    keys = [attempt.entry.idempotency_key for attempt in attempts]
    rows = await connection.execute(
        select(
            notifications.c.idempotency_key, notifications.c.status, notifications.c.detail, notifications.c.attempts
        ).where(notifications.c.idempotency_key.in_(keys))
    )
    return {row.idempotency_key: row for row in rows}


async def _insert(connection: AsyncConnection, attempt: Attempt, now: datetime) -> None:
    await connection.execute(notifications.insert(), [_new_row(attempt, now)])


def _new_row(attempt: Attempt, now: datetime) -> dict[str, Any]:
    return {
        **attempt.entry.__dict__,
        "status": attempt.status,
        # A queued message has not been tried yet: the mailer's first try is its first attempt.
        "attempts": 0 if attempt.status == "queued" else 1,
        "detail": attempt.detail,
        "created_at": now,
        "updated_at": now,
    }
