"""Record-keeping: the long-term system of record, outliving Temporal's retention of closed histories.

Writes are idempotent (a retried batch never duplicates a row) and audit rows are hash-chained.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy import (
    event as sqlalchemy_event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from temporalio import activity

from peer_review.activity_names import RECORD_BATCH
from peer_review.audit_chain import GENESIS, AuditRecord, ChainedEvent, event_hash
from peer_review.metrics import RECORD_LATENCY
from peer_review.models import AuditEvent, Findings, Outcome, RecordBatch, Status

metadata = MetaData()

referrals = Table(
    "referrals",
    metadata,
    Column("referral_id", String(64), primary_key=True),
    Column("case_reference", String(64), nullable=False),
    Column("osn", String(64), nullable=False),
    Column("site", String(200), nullable=False),
    Column("referral_level", String(16), nullable=False),
    Column("reasons", String(200), nullable=False),
    Column("mandatory", Boolean),
    Column("priority", String(16)),
    Column("status", String(32), nullable=False),
    Column("outcome", String(16)),
    Column("chair", String(64)),
    Column("reviewer", String(64)),
    Column("overdue", Boolean, nullable=False, default=False),
    Column("referral_json", Text, nullable=False),
    Column("findings_json", Text),
    Column("last_seq", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("referral_id", String(64), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("from_status", String(32)),
    Column("to_status", String(32)),
    Column("detail", Text),
    Column("previous_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("referral_id", "seq", name="uq_audit_referral_seq"),
)

recommendations = Table(
    "recommendations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("referral_id", String(64), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("level", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("status", String(16), nullable=False, default="open"),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("referral_id", "position", name="uq_recommendation_position"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("idempotency_key", String(200), primary_key=True),
    Column("referral_id", String(64), nullable=False, index=True),
    Column("recipient", String(64), nullable=False),
    Column("address", String(254)),
    Column("step", String(64), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# On PostgreSQL the database itself refuses to change or remove an audit row; the hash chain still catches
# anyone who disables the trigger first.
APPEND_ONLY_TRIGGER = [
    """CREATE OR REPLACE FUNCTION peer_review_audit_is_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
    END;
    $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION peer_review_audit_is_append_only()""",
]


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # A busy SQLite file makes writers wait rather than fail at once; records retry regardless.
        engine = create_async_engine(url, connect_args={"timeout": 30})
        sqlalchemy_event.listen(engine.sync_engine, "connect", _write_ahead_log)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _write_ahead_log(connection: Any, _: object) -> None:
    # WAL lets the CLI and the API read while the worker writes; synchronous stays FULL, so a committed
    # record survives a power cut as well as a crash.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class RecordsStore:
    """All reads and writes of the records database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> RecordsStore:
        return cls(make_engine(url))

    async def create_schema(self) -> None:
        async with self.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            if connection.dialect.name == "postgresql":
                for statement in APPEND_ONLY_TRIGGER:
                    await connection.execute(text(statement))

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as connection:
            yield connection

    async def write_batch(self, batch: RecordBatch) -> int:
        """Write one batch atomically; returns how many audit rows were new."""
        now = datetime.now(UTC)
        async with self.transaction() as connection:
            added = await self._append_events(connection, batch.view.referral_id, batch.events)
            await self._upsert_referral(connection, batch, now)
            if batch.view.outcome is Outcome.COMPLETED:
                await self._register_recommendations(connection, batch, now)
        return added

    async def _append_events(self, connection: AsyncConnection, referral_id: str, events: Sequence[AuditEvent]) -> int:
        if not events:
            return 0
        last = (
            await connection.execute(
                select(audit_events.c.seq, audit_events.c.hash)
                .where(audit_events.c.referral_id == referral_id)
                .order_by(audit_events.c.seq.desc())
                .limit(1)
            )
        ).first()
        last_seq, previous = (last[0], last[1]) if last else (0, GENESIS)
        rows = []
        for event in events:
            if event.seq <= last_seq:
                continue  # already recorded by an earlier attempt of this batch
            if event.seq != last_seq + 1:
                raise RuntimeError(f"audit gap for {referral_id}: event {event.seq} after {last_seq}")
            digest = event_hash(referral_id, event, previous)
            rows.append(
                {
                    "referral_id": referral_id,
                    **event.model_dump(mode="python"),
                    "previous_hash": previous,
                    "hash": digest,
                }
            )
            last_seq, previous = event.seq, digest
        if rows:
            await connection.execute(audit_events.insert(), rows)
        return len(rows)

    async def _upsert_referral(self, connection: AsyncConnection, batch: RecordBatch, now: datetime) -> None:
        view, referral, referral_id = batch.view, batch.referral, batch.view.referral_id
        last_seq = max((e.seq for e in batch.events), default=0)
        values: dict[str, object] = {
            "mandatory": view.mandatory,
            "priority": view.priority.value if view.priority else None,
            "status": view.status.value,
            "outcome": view.outcome.value if view.outcome else None,
            "chair": view.chair,
            "reviewer": view.reviewer,
            "overdue": view.overdue,
            "updated_at": now,
        }
        if referral is not None:
            values |= {
                "case_reference": referral.case_reference,
                "osn": referral.osn,
                "site": referral.site,
                "referral_level": referral.referral_level.value,
                "reasons": ",".join(r.value for r in referral.reasons),
                "referral_json": referral.model_dump_json(),
            }
        if batch.findings is not None:
            values["findings_json"] = batch.findings.model_dump_json()
        current = (
            await connection.execute(select(referrals.c.last_seq).where(referrals.c.referral_id == referral_id))
        ).first()
        if current is None:
            if referral is None:
                # Only possible if the database lost rows (say, restored from an older backup): retry until an
                # operator restores it, rather than write a projection with no referral behind it.
                raise RuntimeError(f"records for {referral_id} are missing their first batch")
            await connection.execute(
                referrals.insert().values(referral_id=referral_id, created_at=now, last_seq=last_seq, **values)
            )
        elif last_seq >= current[0]:
            await connection.execute(
                referrals.update().where(referrals.c.referral_id == referral_id).values(last_seq=last_seq, **values)
            )

    async def _register_recommendations(self, connection: AsyncConnection, batch: RecordBatch, now: datetime) -> None:
        referral_id = batch.view.referral_id
        findings = batch.findings or await _stored_findings(connection, referral_id)
        if findings is None:
            return
        existing = set(
            (
                await connection.execute(
                    select(recommendations.c.position).where(recommendations.c.referral_id == referral_id)
                )
            ).scalars()
        )
        rows = [
            {
                "referral_id": referral_id,
                "position": position,
                "level": item.level.value,
                "text": item.text,
                "owner": item.owner,
                "status": "open",
                "recorded_at": now,
            }
            for position, item in enumerate(findings.recommendations, start=1)
            if position not in existing
        ]
        if rows:
            await connection.execute(recommendations.insert(), rows)

    async def audit_record(self, referral_id: str) -> AuditRecord | None:
        async with self.engine.connect() as connection:
            last_seq = (
                await connection.execute(select(referrals.c.last_seq).where(referrals.c.referral_id == referral_id))
            ).scalar()
            result = await connection.execute(
                select(audit_events).where(audit_events.c.referral_id == referral_id).order_by(audit_events.c.id)
            )
            rows = [
                ChainedEvent(
                    event=AuditEvent(
                        seq=row.seq,
                        at=as_utc(row.at),
                        actor=row.actor,
                        action=row.action,
                        from_status=Status(row.from_status) if row.from_status else None,
                        to_status=Status(row.to_status) if row.to_status else None,
                        detail=row.detail,
                    ),
                    previous_hash=row.previous_hash,
                    hash=row.hash,
                )
                for row in result
            ]
        if last_seq is None and not rows:
            return None
        return AuditRecord(referral_id, rows, last_seq)


async def _stored_findings(connection: AsyncConnection, referral_id: str) -> Findings | None:
    stored = (
        await connection.execute(select(referrals.c.findings_json).where(referrals.c.referral_id == referral_id))
    ).scalar()
    return Findings.model_validate_json(stored) if stored else None


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time stored here was written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RecordActivities:
    def __init__(self, store: RecordsStore) -> None:
        self.store = store

    @activity.defn(name=RECORD_BATCH)
    async def record_batch(self, batch: RecordBatch) -> int:
        added = await self.store.write_batch(batch)
        if batch.events:
            # How far the system of record trails the review: from the oldest event in the batch to now.
            lag = (datetime.now(UTC) - batch.events[0].at).total_seconds()
            activity.metric_meter().create_histogram_float(RECORD_LATENCY, unit="s").record(max(lag, 0.0))
        activity.logger.debug("recorded audit events", extra={"added": added})
        return added


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
