"""The records database's side of retention: legal holds, disposal in batches with a certificate for each review,
and checking every chain and certificate (`audit --verify-all`, the restore drill).

Disposal is idempotent and resumable: each batch is one transaction that writes the certificates and destroys the
rows together, so a crash leaves each review either untouched or disposed of and certified. Certificates and
aggregate rows name the run that wrote them, so a run's counts are read back from the database, never added up
from activity results that a crash could lose or repeat.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from peer_review.domain.audit_chain import GENESIS, AuditRecord, ChainedEvent, ChainKey, verify_chain
from peer_review.domain.lifecycle import Rejection, RejectionKind
from peer_review.domain.models import Status
from peer_review.domain.register import (
    Destroyed,
    DisposedReview,
    EntryKind,
    RegisterEntry,
    SealedEntry,
    certificate,
    entry_mac,
    verify_register,
)
from peer_review.domain.retention import SETTLED_RECOMMENDATION_STATUSES, DisposalBatch
from peer_review.records.schema import (
    access_log,
    audit_events,
    disposed_reviews,
    notifications,
    recommendations,
    referrals,
    retention_register,
)
from peer_review.records.store import RecordsStore, as_utc, chained_event

# Appends to the retention register take this PostgreSQL advisory lock, so two writers never fork the chain.
_REGISTER_LOCK = 7_316_016


class NoSuchReview(LookupError):
    """The records database holds no review with this id (nor a certificate for one)."""


class Disposed(LookupError):
    """The review was disposed of: only its certificate remains."""

    def __init__(self, entry: SealedEntry) -> None:
        super().__init__(f"review {entry.entry.referral_id} was disposed on {entry.entry.at:%Y-%m-%d}")
        self.entry = entry


# --- The register -----------------------------------------------------------------------------------------------


def _sealed(row: Any) -> SealedEntry:
    return SealedEntry(
        entry=RegisterEntry(
            seq=row.seq,
            at=as_utc(row.at),
            kind=EntryKind(row.kind),
            referral_id=row.referral_id,
            actor=row.actor,
            document=json.loads(row.document),
        ),
        previous_hash=row.previous_hash,
        hash=row.hash,
        key_id=row.key_id,
    )


@dataclass
class RegisterSealer:
    """Chains entries onto the end of the retention register in memory; `rows` are what the transaction then writes,
    in one insert per batch rather than one per review."""

    chain_key: ChainKey
    last: tuple[int, str]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def seal(
        self, kind: EntryKind, referral_id: str, actor: str, document: dict[str, Any], at: datetime
    ) -> SealedEntry:
        seq, previous = self.last[0] + 1, self.last[1]
        entry = RegisterEntry(seq, at, kind, referral_id, actor, document)
        digest = entry_mac(self.chain_key.secret, entry, previous)
        self.rows.append(
            {
                "seq": seq,
                "at": at,
                "kind": kind.value,
                "referral_id": referral_id,
                "actor": actor,
                "document": json.dumps(document, sort_keys=True, ensure_ascii=False),
                "previous_hash": previous,
                "hash": digest,
                "key_id": self.chain_key.id,
            }
        )
        self.last = (seq, digest)
        return SealedEntry(entry, previous, digest, self.chain_key.id)


async def open_register(connection: AsyncConnection, chain_key: ChainKey) -> RegisterSealer:
    """A sealer from where the register ends; on PostgreSQL under a lock held to the end of the transaction, so two
    writers never fork the chain."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text(f"SELECT pg_advisory_xact_lock({_REGISTER_LOCK})"))
    last = (
        await connection.execute(
            select(retention_register.c.seq, retention_register.c.hash)
            .order_by(retention_register.c.seq.desc())
            .limit(1)
        )
    ).first()
    return RegisterSealer(chain_key, (last[0], last[1]) if last else (0, GENESIS))


async def write_register(connection: AsyncConnection, sealer: RegisterSealer) -> None:
    if sealer.rows:
        await connection.execute(retention_register.insert(), sealer.rows)


async def register_entries(store: RecordsStore, referral_id: str | None = None) -> list[SealedEntry]:
    query = select(retention_register).order_by(retention_register.c.seq)
    if referral_id is not None:
        query = query.where(retention_register.c.referral_id == referral_id)
    async with store.engine.connect() as connection:
        return [_sealed(row) for row in await connection.execute(query)]


async def certificate_of(store: RecordsStore, referral_id: str) -> SealedEntry | None:
    entries = await register_entries(store, referral_id)
    return next((e for e in entries if e.entry.kind is EntryKind.DISPOSAL), None)


# --- Legal holds ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldChange:
    referral_id: str
    held: bool
    entry: SealedEntry


async def change_hold(
    store: RecordsStore,
    referral_id: str,
    *,
    hold: bool,
    actor: str,
    reason: str,
    proven_by: str,
    at: datetime,
    chain_key: ChainKey,
) -> HoldChange:
    """Place (or release) a legal hold, with its entry in the retention register, in one transaction."""
    async with store.transaction() as connection:
        found = (
            await connection.execute(select(referrals.c.held).where(referrals.c.referral_id == referral_id))
        ).first()
        if found is None:
            certified = await _certificate_in(connection, referral_id)
            if certified is not None:
                raise Disposed(certified)
            raise NoSuchReview(referral_id)
        if bool(found.held) == hold:
            state = "already under a legal hold" if hold else "not under a legal hold"
            raise Rejection(RejectionKind.INVALID_STATE, f"review {referral_id} is {state}")
        await connection.execute(referrals.update().where(referrals.c.referral_id == referral_id).values(held=hold))
        kind = EntryKind.HOLD if hold else EntryKind.RELEASE
        document = {"reason": reason, "proven_by": proven_by}
        register = await open_register(connection, chain_key)
        entry = register.seal(kind, referral_id, actor, document, at)
        await write_register(connection, register)
    return HoldChange(referral_id, hold, entry)


async def _certificate_in(connection: AsyncConnection, referral_id: str) -> SealedEntry | None:
    row = (
        await connection.execute(
            select(retention_register).where(
                retention_register.c.referral_id == referral_id,
                retention_register.c.kind == EntryKind.DISPOSAL.value,
            )
        )
    ).first()
    return _sealed(row) if row else None


# --- Disposal ---------------------------------------------------------------------------------------------------


def _past_retention(cutoff: datetime) -> Any:
    tracked = select(recommendations.c.referral_id).where(
        recommendations.c.referral_id == referrals.c.referral_id,
        recommendations.c.status.not_in(sorted(SETTLED_RECOMMENDATION_STATUSES)),
    )
    return and_(
        referrals.c.status == Status.CLOSED.value,
        referrals.c.updated_at < cutoff,
        or_(referrals.c.held.is_(None), referrals.c.held.is_(False)),
        not_(tracked.exists()),
    )


async def disposable(store: RecordsStore, cutoff: datetime, limit: int) -> tuple[int, list[str]]:
    """How many reviews are past retention (closed before `cutoff`, not held, no tracked recommendation), and the
    ids of the first `limit`, oldest first."""
    async with store.engine.connect() as connection:
        total = (
            await connection.execute(select(func.count()).select_from(referrals).where(_past_retention(cutoff)))
        ).scalar_one()
        ids = (
            await connection.execute(
                select(referrals.c.referral_id)
                .where(_past_retention(cutoff))
                .order_by(referrals.c.updated_at, referrals.c.referral_id)
                .limit(limit)
            )
        ).scalars()
        return total, list(ids)


async def dispose_batch(
    store: RecordsStore,
    batch: DisposalBatch,
    *,
    cutoff: datetime,
    chain_key: ChainKey,
    chain_keys: Mapping[str, bytes],
) -> int:
    """Dispose of up to `batch.limit` reviews past retention (closed before `cutoff`) in one transaction, certified
    as of `batch.now` by `batch.run`; returns how many (0: none left)."""
    async with store.transaction() as connection:
        rows = (
            await connection.execute(
                select(referrals)
                .where(_past_retention(cutoff))
                .order_by(referrals.c.updated_at, referrals.c.referral_id)
                .limit(batch.limit)
            )
        ).all()
        if not rows:
            return 0
        ids = [row.referral_id for row in rows]
        gathered = _Gathered(
            events=await _audit_rows(connection, ids),
            notifications=await _counts(connection, notifications, ids),
            access_log=await _counts(connection, access_log, ids),
            levels=await _recommendation_levels(connection, ids),
        )
        register = await open_register(connection, chain_key)
        aggregates = _certify(rows, gathered, register, batch.run, batch.now, chain_keys)
        await write_register(connection, register)
        await connection.execute(disposed_reviews.insert(), aggregates)
        # The certificates are written first: on PostgreSQL the audit rows' trigger lets them go only then.
        for table in (audit_events, notifications, access_log, recommendations, referrals):
            await connection.execute(delete(table).where(table.c.referral_id.in_(ids)))
    return len(rows)


async def _events_of(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, list[ChainedEvent]]:
    return _chains(await _audit_rows(connection, ids))


async def _audit_rows(connection: AsyncConnection, ids: Sequence[str]) -> Sequence[Any]:
    query = select(audit_events).where(audit_events.c.referral_id.in_(ids)).order_by(audit_events.c.id)
    return (await connection.execute(query)).all()


def _chains(rows: Sequence[Any]) -> dict[str, list[ChainedEvent]]:
    chains: dict[str, list[ChainedEvent]] = defaultdict(list)
    for row in rows:
        chains[row.referral_id].append(chained_event(row))
    return chains


@dataclass(frozen=True)
class _Gathered:
    """What a batch reads of its reviews before certifying them: audit rows and counts of the rest."""

    events: Sequence[Any]
    notifications: Mapping[str, int]
    access_log: Mapping[str, int]
    levels: Mapping[str, Mapping[str, int]]


def _certify(
    rows: Sequence[Any],
    gathered: _Gathered,
    register: RegisterSealer,
    run: str,
    at: datetime,
    chain_keys: Mapping[str, bytes],
) -> list[dict[str, Any]]:
    """Seal a disposal certificate for each review (chains checked) with `register`, and return the aggregate rows
    that outlive the reviews."""
    chains = _chains(gathered.events)
    aggregates = []
    for row in rows:
        chain = chains.get(row.referral_id, [])
        last = chain[-1] if chain else None
        review = DisposedReview(
            referral_id=row.referral_id,
            reasons=[part for part in row.reasons.split(",") if part],
            osn=row.osn,
            referral_level=row.referral_level,
            mandatory=row.mandatory,
            outcome=row.outcome,
            referred_at=as_utc(row.created_at),
            closed_at=as_utc(row.updated_at),
            last_event_seq=last.event.seq if last else 0,
            last_event_hash=last.hash if last else GENESIS,
            last_event_key_id=last.key_id if last else "",
            chain_valid=verify_chain(row.referral_id, chain, chain_keys).valid,
        )
        by_level = gathered.levels.get(row.referral_id, {})
        destroyed = Destroyed(
            referral=1,
            findings=1 if row.findings_json else 0,
            audit_events=len(chain),
            recommendations=sum(by_level.values()),
            notifications=gathered.notifications.get(row.referral_id, 0),
            access_log=gathered.access_log.get(row.referral_id, 0),
        )
        register.seal(EntryKind.DISPOSAL, row.referral_id, run, certificate(review, destroyed, run), at)
        aggregates.append(
            {
                "referral_id": row.referral_id,
                "osn": row.osn,
                "referral_level": row.referral_level,
                "reasons": row.reasons,
                "mandatory": row.mandatory,
                "outcome": row.outcome,
                "referred_at": row.created_at,
                "closed_at": row.updated_at,
                "disposed_at": at,
                "run": run,
                "local_recommendations": by_level.get("local", 0),
                "national_recommendations": by_level.get("national", 0),
                "audit_events": destroyed.audit_events,
                "notifications": destroyed.notifications,
                "access_log": destroyed.access_log,
            }
        )
    return aggregates


async def _counts(connection: AsyncConnection, table: Any, ids: Sequence[str]) -> dict[str, int]:
    query = select(table.c.referral_id, func.count()).where(table.c.referral_id.in_(ids)).group_by(table.c.referral_id)
    return {referral_id: count for referral_id, count in await connection.execute(query)}


async def _recommendation_levels(connection: AsyncConnection, ids: Sequence[str]) -> dict[str, dict[str, int]]:
    query = (
        select(recommendations.c.referral_id, recommendations.c.level, func.count())
        .where(recommendations.c.referral_id.in_(ids))
        .group_by(recommendations.c.referral_id, recommendations.c.level)
    )
    levels: dict[str, dict[str, int]] = defaultdict(dict)
    for referral_id, level, count in await connection.execute(query):
        levels[referral_id][level] = count
    return levels


@dataclass(frozen=True)
class DisposalCounts:
    """What one retention run destroyed, read back from the aggregate rows it wrote."""

    reviews: int = 0
    audit_events: int = 0
    notifications: int = 0
    access_log: int = 0
    recommendations: int = 0


async def run_counts(store: RecordsStore, run: str) -> DisposalCounts:
    c = disposed_reviews.c
    query = select(
        func.count(),
        func.coalesce(func.sum(c.audit_events), 0),
        func.coalesce(func.sum(c.notifications), 0),
        func.coalesce(func.sum(c.access_log), 0),
        func.coalesce(func.sum(c.local_recommendations + c.national_recommendations), 0),
    ).where(c.run == run)
    async with store.engine.connect() as connection:
        reviews, events, sent, reads, recs = (await connection.execute(query)).one()
    return DisposalCounts(int(reviews), int(events), int(sent), int(reads), int(recs))


# --- Checking everything: `audit --verify-all` -------------------------------------------------------------------


@dataclass
class VerifyAllReport:
    reviews: int = 0
    reviews_valid: int = 0
    audit_events: int = 0
    register_entries: int = 0
    register_valid: bool = True
    register_problem: str | None = None
    certificates: int = 0
    certificates_valid: int = 0
    holds_in_force: int = 0
    # The first problems found (review or certificate id, what is wrong), at most PROBLEMS_SHOWN of them.
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return (
            self.register_valid and self.reviews_valid == self.reviews and self.certificates_valid == self.certificates
        )

    def as_dict(self) -> dict[str, Any]:
        problems = [{"referral_id": ref, "problem": problem} for ref, problem in self.problems]
        return {"valid": self.valid, **asdict(self), "problems": problems}


PROBLEMS_SHOWN = 50
VERIFY_PAGE = 500


async def verify_all(store: RecordsStore, keys: Mapping[str, bytes]) -> VerifyAllReport:
    """Check every review's chain, the register's chain and every certificate, a page of reviews at a time."""
    report = VerifyAllReport()
    after = ""
    while True:
        async with store.engine.connect() as connection:
            page = (
                await connection.execute(
                    select(referrals.c.referral_id, referrals.c.last_seq, referrals.c.held)
                    .where(referrals.c.referral_id > after)
                    .order_by(referrals.c.referral_id)
                    .limit(VERIFY_PAGE)
                )
            ).all()
            if not page:
                break
            chains = await _events_of(connection, [row.referral_id for row in page])
        for row in page:
            chain = chains.get(row.referral_id, [])
            report.reviews += 1
            report.audit_events += len(chain)
            report.holds_in_force += 1 if row.held else 0
            check = AuditRecord(row.referral_id, chain, row.last_seq).verify(keys)
            if check.valid:
                report.reviews_valid += 1
            else:
                _problem(report, row.referral_id, check.problem or "chain broken")
        after = page[-1].referral_id
    entries = await register_entries(store)
    report.register_entries = len(entries)
    register_check = verify_register(entries, keys)
    report.register_valid, report.register_problem = register_check.valid, register_check.problem
    certified = [e for e in entries if e.entry.kind is EntryKind.DISPOSAL]
    remaining = await _still_recorded(store, [e.entry.referral_id for e in certified])
    for sealed in certified:
        report.certificates += 1
        problem = certificate_problem(sealed, register_check.valid, remaining)
        if problem is None:
            report.certificates_valid += 1
        else:
            _problem(report, sealed.entry.referral_id, problem)
    return report


def certificate_problem(sealed: SealedEntry, register_valid: bool, still_recorded: set[str]) -> str | None:
    """Why a disposal certificate does not stand (None: it does)."""
    if not register_valid:
        return "the retention register's chain is broken"
    document = sealed.entry.document
    if document.get("referral_id") != sealed.entry.referral_id:
        return "the certificate names another review"
    if sealed.entry.referral_id in still_recorded:
        return "certified as disposed of, but records of it remain"
    return None


async def _still_recorded(store: RecordsStore, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    async with store.engine.connect() as connection:
        for start in range(0, len(ids), VERIFY_PAGE):
            chunk = ids[start : start + VERIFY_PAGE]
            for table in (referrals, audit_events):
                query = select(table.c.referral_id).where(table.c.referral_id.in_(chunk)).distinct()
                found.update((await connection.execute(query)).scalars())
    return found


def _problem(report: VerifyAllReport, referral_id: str, problem: str) -> None:
    if len(report.problems) < PROBLEMS_SHOWN:
        report.problems.append((referral_id, problem))


async def verify_certificate(store: RecordsStore, sealed: SealedEntry, keys: Mapping[str, bytes]) -> str | None:
    """Check one certificate: the register's chain up to it, and that nothing of the review remains."""
    entries = [e for e in await register_entries(store) if e.entry.seq <= sealed.entry.seq]
    check = verify_register(entries, keys)
    if not check.valid:
        return f"the retention register is broken: {check.problem}"
    return certificate_problem(sealed, True, await _still_recorded(store, [sealed.entry.referral_id]))
