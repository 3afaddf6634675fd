"""The notification outbox: one row per notification, whatever happened to it, for as long as records are kept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select

from peer_review.records.schema import notifications
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


# What became of a notification: kept in the outbox (no mailer), sent by SMTP, to be retried, refused for good, or
# given up after the give-up period.
OutboxStatus = Literal["outbox", "sent", "retrying", "refused", "failed"]


@dataclass(frozen=True)
class Attempt:
    """One try at a notification, and the status its row takes."""

    entry: OutboxEntry
    status: OutboxStatus
    detail: str


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
        keys = [attempt.entry.idempotency_key for attempt in attempts]
        rows = await connection.execute(
            select(notifications.c.idempotency_key, notifications.c.attempts).where(
                notifications.c.idempotency_key.in_(keys)
            )
        )
        tried_before = {row.idempotency_key: row.attempts for row in rows}
        for attempt in attempts:
            key = attempt.entry.idempotency_key
            if key not in tried_before:
                await connection.execute(
                    notifications.insert().values(
                        **attempt.entry.__dict__,
                        status=attempt.status,
                        attempts=1,
                        detail=attempt.detail,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                await connection.execute(
                    notifications.update()
                    .where(notifications.c.idempotency_key == key)
                    .values(
                        status=attempt.status, detail=attempt.detail, attempts=tried_before[key] + 1, updated_at=now
                    )
                )
