"""The reports phase: synthetic closed reviews, their recommendations, Customer Journey stages and audit events
written straight into a records database by bulk inserts, then every report (each `--by`) and the register of one
owner timed. Database only: no Temporal server, no worker.

SQLite (a file in a temporary folder) always; PostgreSQL too when PEER_REVIEW_BENCH_POSTGRES_URL names a server
(a database of its own is created there for the run and dropped after it).

Standalone: `python -m benchmarks.records_reports [--reviews N]` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, text

from peer_review.domain.lifecycle import ReadScope, RecommendationScope
from peer_review.domain.models import DEFAULT_THEMES, Outcome, Reason, RecommendationStatus, Status
from peer_review.records.read_model import RegisterFilter, recommendation_register
from peer_review.records.reports import GroupBy, report
from peer_review.records.schema import audit_events, journey_stages, recommendations, referrals
from peer_review.records.scratch import scratch_database
from peer_review.records.store import RecordsStore
from peer_review.settings import DEFAULT_JOURNEY_STAGES

POSTGRES_ENV = "PEER_REVIEW_BENCH_POSTGRES_URL"
RECOMMENDATIONS_PER_REVIEW = 3
OWNERS = 200
OSNS = ("north-east", "north-west", "midlands", "south-west", "south-east", "london", "wales")
# Reviews are referred over two years; the reports are asked for all of it (the largest period) and for one year.
FIRST_DAY = date(2024, 1, 1)
SPAN_DAYS = 730
CHUNK = 20_000
REVIEW_PATH = (
    Status.REFERRED,
    Status.TRIAGE,
    Status.AWAITING_CHAIR_DECISION,
    Status.AWAITING_REVIEWER,
    Status.UNDER_REVIEW,
    Status.AWAITING_SIGN_OFF,
    Status.CLOSED,
)
R = RecommendationStatus
# Where recommendations stand, and the moves that brought each there.
RECOMMENDATION_PATHS: tuple[tuple[RecommendationStatus, ...], ...] = (
    (R.PROPOSED,),
    (R.PROPOSED, R.NOT_ACCEPTED),
    (R.PROPOSED, R.ACCEPTED),
    (R.PROPOSED, R.ACCEPTED, R.IN_PROGRESS),
    (R.PROPOSED, R.ACCEPTED, R.IN_PROGRESS, R.IMPLEMENTED),
    (R.PROPOSED, R.ACCEPTED, R.IN_PROGRESS, R.IMPLEMENTED, R.VERIFIED),
)
NO_HASH = "0" * 64
REPEATS = 3
# The targets (seconds).
REPORT_LIMIT_S = 2.0
REGISTER_LIMIT_S = 0.5


@dataclass
class Timing:
    what: str
    seconds_median: float
    seconds_min: float
    rows: int


@dataclass
class DatabaseFigures:
    backend: str
    reviews: int
    recommendations: int
    audit_events: int
    journey_stages: int
    fill_seconds: float
    timings: list[Timing] = field(default_factory=list)


@dataclass
class Rows:
    """One batch of synthetic rows for each table."""

    referrals: list[dict[str, Any]] = field(default_factory=list)
    audit_events: list[dict[str, Any]] = field(default_factory=list)
    journey_stages: list[dict[str, Any]] = field(default_factory=list)
    recommendations: list[dict[str, Any]] = field(default_factory=list)

    def tables(self) -> list[tuple[Table, list[dict[str, Any]]]]:
        return [
            (referrals, self.referrals),
            (audit_events, self.audit_events),
            (journey_stages, self.journey_stages),
            (recommendations, self.recommendations),
        ]


def owner_of(index: int) -> str:
    return f"T-OWNER-{index % OWNERS:03d}"


def _event(record_id: str, seq: int, at: datetime, source: str | None, target: str) -> dict[str, Any]:
    return {
        "referral_id": record_id,
        "seq": seq,
        "at": at,
        "actor": "system",
        "action": target,
        "from_status": source,
        "to_status": target,
        "detail": None,
        "proven_by": None,
        "previous_hash": NO_HASH,
        "hash": NO_HASH,
        "key_id": None,
    }


def _moves(rows: Rows, record_id: str, path: tuple[str, ...], at: datetime, rng: random.Random) -> list[datetime]:
    """Audit events for each move along `path` from `at`, some hours to some weeks apart; when each was made."""
    moments, source = [], None
    for seq, target in enumerate(path, start=1):
        rows.audit_events.append(_event(record_id, seq, at, source, target))
        moments.append(at)
        source, at = target, at + timedelta(hours=rng.uniform(2, 24 * 20))
    return moments


def synthetic(reviews: int, seed: int = 15) -> Iterator[Rows]:
    """`reviews` closed reviews, in batches of about CHUNK rows per table, the same for one seed."""
    rng = random.Random(seed)
    reasons = [reason.value for reason in Reason]
    outcomes = [Outcome.COMPLETED.value] * 8 + [Outcome.DECLINED.value, Outcome.WITHDRAWN.value]
    batch = Rows()
    for index in range(reviews):
        referral_id = f"BENCH-{index:07d}"
        created = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(
            seconds=rng.uniform(0, SPAN_DAYS * 86400)
        )
        osn = OSNS[index % len(OSNS)]
        moments = _moves(batch, referral_id, tuple(s.value for s in REVIEW_PATH), created, rng)
        closed = moments[-1]
        batch.referrals.append(
            {
                "referral_id": referral_id,
                "case_reference": f"CASE-{index:07d}",
                "customer_reference": None,
                "referred_by": "S300",
                "osn": osn,
                "site": "Leeds",
                "referral_level": "local",
                "reasons": ",".join(sorted(set(rng.sample(reasons, rng.choice((1, 1, 2)))))),
                "mandatory": False,
                "priority": "standard",
                "status": Status.CLOSED.value,
                "outcome": rng.choice(outcomes),
                "chair": "S100",
                "reviewer": "S400",
                "overdue": False,
                "referral_json": "{}",
                "findings_json": None,
                "last_seq": len(REVIEW_PATH),
                "created_at": created,
                "updated_at": closed,
            }
        )
        for stage in DEFAULT_JOURNEY_STAGES[:4]:
            followed = rng.choice(("yes", "yes", "partly", "no"))
            batch.journey_stages.append(
                {"referral_id": referral_id, "osn": osn, "stage": stage, "followed": followed, "recorded_at": closed}
            )
        for position in range(1, RECOMMENDATIONS_PER_REVIEW + 1):
            batch.recommendations.append(_recommendation(batch, referral_id, position, osn, closed, index, rng))
        if len(batch.audit_events) >= CHUNK:
            yield batch
            batch = Rows()
    yield batch


def _recommendation(
    rows: Rows, referral_id: str, position: int, osn: str, recorded: datetime, index: int, rng: random.Random
) -> dict[str, Any]:
    rec_id = f"{referral_id}-R{position}"
    path = rng.choice(RECOMMENDATION_PATHS)
    moments = dict(zip(path, _moves(rows, rec_id, tuple(s.value for s in path), recorded, rng), strict=True))
    final = path[-1]
    open_ = final not in (R.NOT_ACCEPTED, R.VERIFIED)
    return {
        "referral_id": referral_id,
        "position": position,
        "recommendation_id": rec_id,
        "level": "national" if position == RECOMMENDATIONS_PER_REVIEW else "local",
        "text": "Send the acknowledgement within two working days of the complaint.",
        "owner": owner_of(index * RECOMMENDATIONS_PER_REVIEW + position),
        "theme": rng.choice([*DEFAULT_THEMES, None]),
        "stage": rng.choice(DEFAULT_JOURNEY_STAGES),
        "osn": osn,
        "status": final.value,
        "due_at": moments[final] + timedelta(days=30) if open_ else None,
        "overdue": open_ and rng.random() < 0.1,
        "rationale": None,
        "evidence": None,
        "recorded_at": recorded,
        "decided_at": moments.get(R.ACCEPTED) or moments.get(R.NOT_ACCEPTED),
        "implemented_at": moments.get(R.IMPLEMENTED),
        "verified_at": moments.get(R.VERIFIED),
        "updated_at": moments[final],
    }


async def fill(store: RecordsStore, reviews: int) -> dict[str, int]:
    """Bulk-insert the synthetic records; how many rows went into each table."""
    written = {table.name: 0 for table in (referrals, audit_events, journey_stages, recommendations)}
    async with store.engine.begin() as connection:
        for batch in synthetic(reviews):
            for table, rows in batch.tables():
                if rows:
                    await connection.execute(table.insert(), rows)
                    written[table.name] += len(rows)
    async with store.engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        if store.engine.dialect.name == "postgresql":
            # What autovacuum does to a database in use, which a bulk fill has not had yet: statistics for the
            # planner, and the visibility map without which an index-only scan reads every row's page as well.
            await connection.execute(text("VACUUM ANALYZE"))
        else:
            # A records database in use has a short write-ahead log; one bulk fill leaves it as large as the file.
            await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return written


async def _timed(what: str, call: Any) -> Timing:
    durations, rows = [], 0
    for _ in range(REPEATS):
        began = time.perf_counter()
        rows = await call()
        durations.append(time.perf_counter() - began)
    return Timing(what, statistics.median(durations), min(durations), rows)


def _report_rows(found: Any) -> int:
    return sum(
        len(part)
        for part in (
            found.reviews,
            found.time_in_status,
            found.stages_not_followed,
            found.recommendations,
            found.themes,
        )
    )


async def time_reports(store: RecordsStore) -> list[Timing]:
    """Each report over the whole span of the records and over its last full year, then one owner's register: as
    the national lead (everything, filtered to the owner) and as that owner's contact (the read rule's scope)."""
    whole = (FIRST_DAY, FIRST_DAY + timedelta(days=SPAN_DAYS + 180))
    year = (date(FIRST_DAY.year + 1, 1, 1), date(FIRST_DAY.year + 1, 12, 31))
    timings = []
    for label, (start, end) in (("all", whole), ("a year", year)):
        for by in GroupBy:

            async def one(by: GroupBy = by, start: date = start, end: date = end) -> int:
                return _report_rows(await report(store, start, end, by))

            timings.append(await _timed(f"report --by {by.value} ({label}: {start} to {end})", one))
    owner = owner_of(7)

    async def everything() -> int:
        return len(await recommendation_register(store, selection=RegisterFilter(owner=owner)))

    async def scoped() -> int:
        reviews = ReadScope(staff_id="S302", everything=False, osns=frozenset())
        scope = RecommendationScope(everything=False, osns=frozenset(), owners=frozenset({owner}), reviews=reviews)
        return len(await recommendation_register(store, scope=scope, selection=RegisterFilter(owner=owner)))

    timings.append(await _timed(f"register --owner {owner} (national lead)", everything))
    timings.append(await _timed(f"register --owner {owner} (as the owner)", scoped))
    return timings


@asynccontextmanager
async def _database(backend: str, workdir: Path) -> AsyncIterator[RecordsStore]:
    if backend == "sqlite":
        store = RecordsStore.from_url(f"sqlite+aiosqlite:///{workdir / 'reports.db'}")
        await store.create_schema()
        try:
            yield store
        finally:
            await store.close()
        return
    async with scratch_database(os.environ[POSTGRES_ENV], "bench_reports") as store:
        yield store


def backends() -> list[str]:
    return ["sqlite", *(["postgresql"] if os.environ.get(POSTGRES_ENV) else [])]


async def measure_reports(reviews: int) -> list[dict[str, Any]]:
    """The phase on each backend: fill `reviews` closed reviews, then time every report and the register."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="peer-review-bench-reports-") as tmp:
        for backend in backends():
            async with _database(backend, Path(tmp)) as store:
                began = time.perf_counter()
                written = await fill(store, reviews)
                filled = time.perf_counter() - began
                found = DatabaseFigures(
                    backend=backend,
                    reviews=written["referrals"],
                    recommendations=written["recommendations"],
                    audit_events=written["audit_events"],
                    journey_stages=written["journey_stages"],
                    fill_seconds=round(filled, 1),
                    timings=await time_reports(store),
                )
                figures.append(asdict(found))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.records_reports", description=__doc__)
    parser.add_argument("--reviews", type=int, default=100_000, help="closed reviews written (100000)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure_reports(args.reviews)), indent=2))


if __name__ == "__main__":
    main()
