"""Reads and writes of the records database. Writes are idempotent: a retried batch never duplicates a row."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from peer_review.domain.audit_chain import GENESIS, AuditRecord, ChainedEvent, ChainKey, event_mac
from peer_review.domain.models import (
    AuditEvent,
    BatchWritten,
    Findings,
    NotificationRequest,
    Outcome,
    RecommendationBatch,
    RecommendationStatus,
    RecordBatch,
    Referral,
    Status,
    recommendation_id,
    settle,
)
from peer_review.records.outbox import Attempt, queue_outbox
from peer_review.records.schema import (
    APPEND_ONLY_TRIGGER,
    FILL_CLOSED_AT,
    SPAN_TRIGGERS,
    access_log,
    audit_events,
    journey_stages,
    metadata,
    recommendations,
    referrals,
)

# A busy SQLite file makes writers wait this long rather than fail at once; records retry regardless. Under the
# record activity's start-to-close timeout, so an attempt fails by itself before the server gives up on it.
SQLITE_BUSY_TIMEOUT_SECONDS = 8.0


def make_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        sqlalchemy_event.listen(engine.sync_engine, "connect", _write_ahead_log)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


# How long one try at switching a new file to WAL waits for other connections' locks (milliseconds).
WAL_SWITCH_WAIT_MS = 50


def _write_ahead_log(connection: Any, _: object) -> None:
    """Put the database in WAL mode: the CLI and the API read while the worker writes; synchronous stays FULL, so a
    committed record survives a power cut as well as a crash.

    Connections opened at the same moment on a new file (the worker and the API of `make run`, a deployment's
    replicas) each try to switch it, and each holds a read lock while it waits for the others to let go of theirs:
    with the full busy timeout every one of them would wait it out. So each try waits briefly, and a connection that
    finds the file locked lets go and tries again (the mode is kept in the file: once one has switched it, the others'
    tries succeed at once), until the busy timeout has passed."""
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout")
        busy_timeout_ms = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA busy_timeout = {WAL_SWITCH_WAIT_MS}")
        deadline = time.monotonic() + busy_timeout_ms / 1000
        while True:
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                break
            except Exception as error:  # the driver's OperationalError, by whichever module the adapter raises it
                if "database is locked" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(random.uniform(0.005, 0.05))
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    finally:
        cursor.close()


# Any fixed number: the PostgreSQL advisory lock that schema changes take, held until their transaction ends.
SCHEMA_LOCK_KEY = 0x70_65_65_72  # "peer"


async def _lock_for_schema_changes(connection: AsyncConnection) -> None:
    """Hold the database's schema lock for the rest of `connection`'s transaction."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # SQLite's driver opens its transaction lazily, before the first write, so the check for which tables
        # exist would run outside it; an immediate transaction takes the write lock now (others wait, up to the
        # busy timeout) and the check sees every table the others made.
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


class RecordsStore:
    """All reads and writes of the records database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> RecordsStore:
        return cls(make_engine(url))

    async def create_schema(self) -> None:
        """Make what is missing of the schema. Processes that start together (the worker and the API of `make run`,
        a deployment's replicas) each call this on the same fresh database: the first takes a lock that the others
        wait on, so each finds the tables already made when its turn comes, rather than failing to make them twice."""
        async with self.engine.begin() as connection:
            await _lock_for_schema_changes(connection)
            await connection.run_sync(metadata.create_all)
            await connection.run_sync(_add_missing_columns)
            await _fill_from_referrals(connection)
            await connection.execute(text(FILL_CLOSED_AT))
            for statement in SPAN_TRIGGERS.get(connection.dialect.name, []):
                await connection.execute(text(statement))
            if connection.dialect.name == "postgresql":
                for statement in APPEND_ONLY_TRIGGER:
                    await connection.execute(text(statement))

    async def schema_exists(self) -> bool:
        """False for a database no worker has written to yet (it holds no reviews at all)."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).has_table(referrals.name))

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as connection:
            yield connection

    async def write_batch(
        self, batch: RecordBatch, chain_key: ChainKey, messages: Sequence[Attempt] = ()
    ) -> BatchWritten:
        """Write one batch atomically, sealing new audit rows with `chain_key`, with the outbox rows of its `messages`
        (the first attempts at `batch.notifications`, in order) and their audit events settled."""
        now = datetime.now(UTC)
        async with self.transaction() as connection:
            # The row first: appending a closing move sets its closed_at (CLOSED_TRIGGERS in the schema).
            await self._upsert_referral(connection, batch, now)
            written = await self._append_with_outbox(
                connection, batch.view.referral_id, batch.events, batch.notifications, messages, chain_key, now
            )
            if batch.view.outcome is Outcome.COMPLETED:
                await self._register_recommendations(connection, batch, now)
                await self._record_journey(connection, batch, now)
        return written

    async def _append_with_outbox(
        self,
        connection: AsyncConnection,
        record_id: str,
        events: Sequence[AuditEvent],
        requests: Sequence[NotificationRequest],
        messages: Sequence[Attempt],
        chain_key: ChainKey,
        now: datetime,
    ) -> BatchWritten:
        outcomes = await queue_outbox(connection, messages, now)
        added = await self._append_events(connection, record_id, settle(events, requests, outcomes), chain_key)
        return BatchWritten(added=added, outcomes=outcomes)

    async def _append_events(
        self, connection: AsyncConnection, referral_id: str, events: Sequence[AuditEvent], chain_key: ChainKey
    ) -> int:
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
            digest = event_mac(chain_key.secret, referral_id, event, previous)
            rows.append(
                {
                    "referral_id": referral_id,
                    **event.model_dump(mode="python"),
                    "previous_hash": previous,
                    "hash": digest,
                    "key_id": chain_key.id,
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
            "view_json": view.model_dump_json(),
            "updated_at": now,
        }
        if view.reasons:
            # Reasons added during the review follow; they are never removed.
            values["reasons"] = ",".join(r.value for r in view.reasons)
        if referral is not None:
            values |= {
                "case_reference": referral.case_reference,
                "referred_by": referral.referred_by,
                "customer_reference": referral.customer.reference,
                "osn": referral.osn,
                "site": referral.site,
                "referral_level": referral.referral_level.value,
                "reasons": ",".join(r.value for r in referral.reasons),
                "referral_json": referral.model_dump_json(),
            }
        if batch.policy is not None:
            values["policy_json"] = batch.policy.model_dump_json()
        if batch.findings is not None:
            values["findings_json"] = batch.findings.model_dump_json()
        newer = referrals.update().where(referrals.c.referral_id == referral_id, referrals.c.last_seq <= last_seq)
        # Every batch after the first is one statement, which changes nothing if an older batch arrives late.
        if referral is None and (await connection.execute(newer.values(last_seq=last_seq, **values))).rowcount:
            return
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
        elif referral is not None:
            await connection.execute(newer.values(last_seq=last_seq, **values))

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
                "recommendation_id": recommendation_id(referral_id, position),
                "level": item.level.value,
                "text": item.text,
                "owner": item.owner,
                "theme": item.theme,
                "stage": item.stage,
                "osn": batch.view.osn,
                "status": RecommendationStatus.PROPOSED.value,
                "overdue": False,
                "recorded_at": now,
                "updated_at": now,
            }
            for position, item in enumerate(findings.recommendations, start=1)
            if position not in existing
        ]
        if rows:
            await connection.execute(recommendations.insert(), rows)

    async def _record_journey(self, connection: AsyncConnection, batch: RecordBatch, now: datetime) -> None:
        """The signed-off findings' Customer Journey stages, once per review (for the reports)."""
        referral_id = batch.view.referral_id
        done = (
            await connection.execute(
                select(journey_stages.c.id).where(journey_stages.c.referral_id == referral_id).limit(1)
            )
        ).first()
        findings = None if done else batch.findings or await _stored_findings(connection, referral_id)
        if findings is None or not findings.customer_journey:
            return
        osn = batch.view.osn or ""
        rows = [
            {
                "referral_id": referral_id,
                "osn": osn,
                "stage": stage.stage,
                "followed": stage.followed,
                "recorded_at": now,
            }
            for stage in findings.customer_journey
        ]
        await connection.execute(journey_stages.insert(), rows)

    async def write_recommendation_batch(
        self, batch: RecommendationBatch, chain_key: ChainKey, messages: Sequence[Attempt] = ()
    ) -> BatchWritten:
        """Write one batch of a tracked recommendation atomically: its audit events (a chain of their own, under
        its id), its messages' outbox rows and its row in the register. Idempotent like write_batch."""
        view = batch.view
        now = datetime.now(UTC)
        values: dict[str, object] = {
            "recommendation_id": view.recommendation_id,
            "level": view.level.value,
            "text": view.text,
            "owner": view.owner,
            "theme": view.theme,
            "stage": view.stage,
            "osn": view.osn,
            "status": view.status.value,
            "due_at": view.due_at,
            "overdue": view.overdue,
            "rationale": view.rationale,
            "evidence": view.evidence,
            "updated_at": now,
        }
        for event in batch.events:
            moment = _MOMENTS.get(event.to_status) if event.from_status != event.to_status else None
            if moment is not None:
                values[moment] = event.at
        async with self.transaction() as connection:
            written = await self._append_with_outbox(
                connection, view.recommendation_id, batch.events, batch.notifications, messages, chain_key, now
            )
            where = (recommendations.c.referral_id == view.referral_id) & (recommendations.c.position == view.position)
            found = (await connection.execute(select(recommendations.c.id).where(where))).first()
            if found is None:
                recorded_at = batch.events[0].at if batch.events else now
                await connection.execute(
                    recommendations.insert().values(
                        referral_id=view.referral_id, position=view.position, recorded_at=recorded_at, **values
                    )
                )
            else:
                await connection.execute(recommendations.update().where(where).values(**values))
        return written

    async def audit_record(self, referral_id: str) -> AuditRecord | None:
        async with self.engine.connect() as connection:
            last_seq = (
                await connection.execute(select(referrals.c.last_seq).where(referrals.c.referral_id == referral_id))
            ).scalar()
            result = await connection.execute(
                select(audit_events).where(audit_events.c.referral_id == referral_id).order_by(audit_events.c.id)
            )
            rows = [chained_event(row) for row in result]
        if last_seq is None and not rows:
            return None
        return AuditRecord(referral_id, rows, last_seq)

    async def log_access(self, entry: AccessEntry) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                access_log.insert().values(
                    at=datetime.now(UTC),
                    reader=entry.reader[:64],
                    what=entry.what,
                    referral_id=entry.referral_id,
                    channel=entry.channel,
                    allowed=entry.allowed,
                    proven_by=entry.proven_by,
                )
            )

    async def access_entries(self, referral_id: str | None = None) -> list[AccessEntry]:
        query = select(access_log).order_by(access_log.c.id)
        if referral_id is not None:
            query = query.where(access_log.c.referral_id == referral_id)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            AccessEntry(row.reader, row.what, row.referral_id, row.channel, row.allowed, row.proven_by, as_utc(row.at))
            for row in rows
        ]


@dataclass(frozen=True)
class AccessEntry:
    """One read of a full record (or one refused read)."""

    reader: str
    what: str
    referral_id: str | None
    channel: str
    allowed: bool
    proven_by: str | None = None
    at: datetime | None = None


def _add_missing_columns(connection: Connection) -> None:
    """Bring a database made by an earlier version up to date: add its missing nullable columns and indexes.

    create_all makes missing tables only; a column added later (nullable, so old rows stay valid) is added here.
    """
    inspector = inspect(connection)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=connection.dialect)
                connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(connection)


async def _fill_from_referrals(connection: AsyncConnection) -> None:
    """Rows recorded before the customer reference and the referrer had columns of their own get them from their
    referral."""
    missing = await connection.execute(
        select(referrals.c.referral_id, referrals.c.referral_json).where(
            referrals.c.customer_reference.is_(None) | referrals.c.referred_by.is_(None)
        )
    )
    for referral_id, referral_json in missing.all():
        referral = Referral.model_validate_json(referral_json)
        await connection.execute(
            referrals.update()
            .where(referrals.c.referral_id == referral_id)
            .values(customer_reference=referral.customer.reference, referred_by=referral.referred_by)
        )


async def _stored_findings(connection: AsyncConnection, referral_id: str) -> Findings | None:
    stored = (
        await connection.execute(select(referrals.c.findings_json).where(referrals.c.referral_id == referral_id))
    ).scalar()
    return Findings.model_validate_json(stored) if stored else None


def chained_event(row: Any) -> ChainedEvent:
    """One audit_events row as the chain sees it."""
    return ChainedEvent(
        event=AuditEvent(
            seq=row.seq,
            at=as_utc(row.at),
            actor=row.actor,
            action=row.action,
            from_status=_status(row.from_status),
            to_status=_status(row.to_status),
            detail=row.detail,
            proven_by=row.proven_by,
        ),
        previous_hash=row.previous_hash,
        hash=row.hash,
        key_id=row.key_id or "",
    )


# When a recommendation reached a status that reports measure from, by the column that keeps it.
_MOMENTS: dict[Status | RecommendationStatus | None, str] = {
    RecommendationStatus.ACCEPTED: "decided_at",
    RecommendationStatus.NOT_ACCEPTED: "decided_at",
    RecommendationStatus.IMPLEMENTED: "implemented_at",
    RecommendationStatus.VERIFIED: "verified_at",
}
_STATUS_VALUES = {s.value for s in Status}


def _status(value: str | None) -> Status | RecommendationStatus | None:
    """A recorded status: a review's, or a tracked recommendation's."""
    if not value:
        return None
    return Status(value) if value in _STATUS_VALUES else RecommendationStatus(value)


def as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time stored here was written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
