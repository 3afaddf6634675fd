"""The notification outbox: one row per notification, whatever happened to it, for as long as records are kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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


async def outbox_status(store: RecordsStore, key: str) -> str | None:
    async with store.engine.connect() as connection:
        return (
            await connection.execute(select(notifications.c.status).where(notifications.c.idempotency_key == key))
        ).scalar()


async def save_outbox(store: RecordsStore, entry: OutboxEntry, status: str, detail: str) -> None:
    """Record a notification attempt; one row per idempotency key, however often it is retried."""
    now = datetime.now(UTC)
    async with store.transaction() as connection:
        attempts = (
            await connection.execute(
                select(notifications.c.attempts).where(notifications.c.idempotency_key == entry.idempotency_key)
            )
        ).scalar()
        if attempts is None:
            await connection.execute(
                notifications.insert().values(
                    **entry.__dict__, status=status, attempts=1, detail=detail, created_at=now, updated_at=now
                )
            )
        else:
            await connection.execute(
                notifications.update()
                .where(notifications.c.idempotency_key == entry.idempotency_key)
                .values(status=status, attempts=attempts + 1, detail=detail, updated_at=now)
            )
