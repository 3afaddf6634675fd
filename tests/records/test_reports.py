"""The reports against a small fixture whose every expected figure is worked out by hand (in the comments), on
SQLite and, with PEER_REVIEW_TEST_POSTGRES_URL, on a fresh PostgreSQL database of its own.

Period: 1 January to 28 February 2026. Reviews (all times midnight UTC):
  A  north-east, complex_issue, completed: referred 01-05, triage 01-06, awaiting_chair_decision 01-07,
     under_review 01-10 (a note 01-12 does not move it), closed 01-20
  B  south-west, persistent_or_vexatious + complex_issue, declined: referred 01-20, triage 01-22,
     awaiting_chair_decision 01-23, closed 02-02
  C  north-east, persistent_or_vexatious, open: referred 02-10, triage 02-11, awaiting_chair_decision 02-15
  D  north-east, persistent_or_vexatious, completed: referred 2025-12-20, triage 12-21, under_review 12-22,
     closed 2026-01-15 (only its closing falls in the period)
  E  south-west, other: referred 2026-03-02 (after the period)
Recommendations: A-R1 proposed 01-20, accepted 01-22, in_progress 01-23, implemented 01-30, verified 02-03;
  A-R2 proposed 01-20, not_accepted 01-25.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from peer_review.records.reports import GroupBy, report
from peer_review.records.schema import audit_events, disposed_reviews, journey_stages, recommendations, referrals
from peer_review.records.scratch import scratch_database
from peer_review.records.store import RecordsStore
from tests.helpers import postgres_url

BACKENDS = ["sqlite", "postgresql"]
START, END = date(2026, 1, 1), date(2026, 2, 28)


def day(month_day: str, year: int = 2026) -> datetime:
    month, dom = (int(part) for part in month_day.split("-"))
    return datetime(year, month, dom, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
async def records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RecordsStore]:
    if request.param == "sqlite":
        store = RecordsStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'reports.db'}")
        await store.create_schema()
        yield store
        await store.close()
        return
    # The shared test database holds other tests' reviews: the figures need a database of their own.
    async with scratch_database(postgres_url(), "reports") as store:
        yield store


REVIEWS: dict[str, dict[str, Any]] = {
    "A": {"osn": "north-east", "reasons": "complex_issue", "outcome": "completed", "status": "closed"},
    "B": {"osn": "south-west", "reasons": "persistent_or_vexatious,complex_issue", "outcome": "declined"},
    "C": {"osn": "north-east", "reasons": "persistent_or_vexatious", "outcome": None, "status": "triage"},
    "D": {"osn": "north-east", "reasons": "persistent_or_vexatious", "outcome": "completed"},
    "E": {"osn": "south-west", "reasons": "other", "outcome": None, "status": "referred"},
}
# Each record's moves in order: (moment, the status it moved into), each from the status the move before reached.
MOVES: dict[str, list[tuple[str, str]]] = {
    "A": [
        ("01-05", "referred"),
        ("01-06", "triage"),
        ("01-07", "awaiting_chair_decision"),
        ("01-10", "under_review"),
        ("01-12", "under_review"),
        ("01-20", "closed"),
    ],
    "B": [
        ("01-20", "referred"),
        ("01-22", "triage"),
        ("01-23", "awaiting_chair_decision"),
        ("02-02", "closed"),
    ],
    "C": [("02-10", "referred"), ("02-11", "triage"), ("02-15", "awaiting_chair_decision")],
    "D": [
        ("2025-12-20", "referred"),
        ("2025-12-21", "triage"),
        ("2025-12-22", "under_review"),
        ("01-15", "closed"),
    ],
    "E": [("03-02", "referred")],
    "A-R1": [
        ("01-20", "proposed"),
        ("01-22", "accepted"),
        ("01-23", "in_progress"),
        ("01-30", "implemented"),
        ("02-03", "verified"),
    ],
    "A-R2": [("01-20", "proposed"), ("01-25", "not_accepted")],
}  # fmt: skip


def moment(value: str) -> datetime:
    if value.startswith("2025-"):
        return day(value.removeprefix("2025-"), 2025)
    return day(value)


async def write_fixture(store: RecordsStore) -> None:
    async with store.transaction() as connection:
        for ref, review in REVIEWS.items():
            created = moment(MOVES[ref][0][0])
            await connection.execute(
                referrals.insert().values(
                    referral_id=ref,
                    case_reference=f"CASE-{ref}",
                    customer_reference=f"CUST-{ref}",
                    referred_by="S300",
                    osn=review["osn"],
                    site="Leeds",
                    referral_level="local",
                    reasons=review["reasons"],
                    status=review.get("status", "closed"),
                    outcome=review["outcome"],
                    overdue=False,
                    referral_json="{}",
                    last_seq=len(MOVES[ref]),
                    created_at=created,
                    updated_at=created,
                )
            )
        for record, moves in MOVES.items():
            from_status: str | None = None
            for seq, (at, to_status) in enumerate(moves, start=1):
                await connection.execute(
                    audit_events.insert().values(
                        referral_id=record,
                        seq=seq,
                        at=moment(at),
                        actor="system",
                        action=to_status,
                        from_status=from_status,
                        to_status=to_status,
                        previous_hash="0" * 64,
                        hash="0" * 64,
                    )
                )
                from_status = to_status
        stages = [
            ("A", "north-east", "Acknowledgement", "no", "01-20"),
            ("A", "north-east", "Investigation", "partly", "01-20"),
            ("A", "north-east", "Response", "yes", "01-20"),
            ("D", "north-east", "Acknowledgement", "no", "01-15"),
            ("E", "south-west", "Acknowledgement", "no", "03-05"),
        ]
        for ref, osn, stage, followed, at in stages:
            await connection.execute(
                journey_stages.insert().values(
                    referral_id=ref, osn=osn, stage=stage, followed=followed, recorded_at=moment(at)
                )
            )
        items = [
            # (id, theme, status, recorded, implemented, overdue)
            ("A-R1", "communication", "verified", "01-20", "01-30", False),
            ("A-R2", None, "not_accepted", "01-20", None, False),
            ("D-R1", "communication", "in_progress", "01-15", None, True),
            ("D-R2", "timeliness", "implemented", "01-15", "01-19", False),
            ("E-R1", "communication", "proposed", "03-03", None, False),
        ]
        for rec_id, theme, status, recorded, implemented, overdue in items:
            ref, position = rec_id.split("-R")
            await connection.execute(
                recommendations.insert().values(
                    referral_id=ref,
                    position=int(position),
                    recommendation_id=rec_id,
                    level="local",
                    text="Acknowledge within two days",
                    owner="T-LEEDS-COMPLAINTS",
                    theme=theme,
                    osn=REVIEWS[ref]["osn"],
                    status=status,
                    overdue=overdue,
                    recorded_at=moment(recorded),
                    implemented_at=moment(implemented) if implemented else None,
                )
            )


async def test_the_report_by_month_matches_the_hand_worked_figures(records: RecordsStore) -> None:
    await write_fixture(records)
    found = (await report(records, START, END, GroupBy.MONTH)).model_dump(mode="json")
    # Referred: January A and B, February C (D before, E after). Closed: January D (01-15) and A (01-20),
    # February B (02-02).
    assert found["reviews"] == [
        {"group": "2026-01", "referred": 2, "closed": 2},
        {"group": "2026-02", "referred": 1, "closed": 1},
    ]
    # Stays entered in the period and since left, in days; nearest rank: median at ceil(n/2), p90 at ceil(0.9n).
    # accepted [1]; awaiting_chair_decision A 3, B 10 → [3, 10]: median rank 1 = 3, p90 rank 2 = 10;
    # implemented [4] (01-30 → 02-03); in_progress [7]; proposed A-R1 2, A-R2 5 → [2, 5]: 2 and 5;
    # referred A 1, B 2, C 1 → [1, 1, 2]: median rank 2 = 1, p90 rank 3 = 2; triage A 1, B 1, C 4 → [1, 1, 4]: 1, 4;
    # under_review A 10 (the note does not end the stay). D's stays began before the period.
    assert found["time_in_status"] == [
        {"status": "accepted", "moves": 1, "median_days": 1.0, "p90_days": 1.0},
        {"status": "awaiting_chair_decision", "moves": 2, "median_days": 3.0, "p90_days": 10.0},
        {"status": "implemented", "moves": 1, "median_days": 4.0, "p90_days": 4.0},
        {"status": "in_progress", "moves": 1, "median_days": 7.0, "p90_days": 7.0},
        {"status": "proposed", "moves": 2, "median_days": 2.0, "p90_days": 5.0},
        {"status": "referred", "moves": 3, "median_days": 1.0, "p90_days": 2.0},
        {"status": "triage", "moves": 3, "median_days": 1.0, "p90_days": 4.0},
        {"status": "under_review", "moves": 1, "median_days": 10.0, "p90_days": 10.0},
    ]
    # A and D did not follow Acknowledgement; A followed Investigation partly; E's is after the period.
    assert found["stages_not_followed"] == [
        {"stage": "Acknowledgement", "osn": "north-east", "not_followed": 2, "partly": 0},
        {"stage": "Investigation", "osn": "north-east", "not_followed": 0, "partly": 1},
    ]
    # Recorded in the period: A-R1, A-R2, D-R1, D-R2 (E-R1 after).
    assert found["recommendations"] == [
        {"status": "implemented", "count": 1, "overdue": 0},
        {"status": "in_progress", "count": 1, "overdue": 1},
        {"status": "not_accepted", "count": 1, "overdue": 0},
        {"status": "verified", "count": 1, "overdue": 0},
    ]
    # Implemented: A-R1 10 days, D-R2 4 days → [4, 10]: median rank 1 = 4.
    assert found["median_days_to_implementation"] == 4.0
    assert found["themes"] == [
        {"month": "2026-01", "theme": "(none)", "count": 1},
        {"month": "2026-01", "theme": "communication", "count": 2},
        {"month": "2026-01", "theme": "timeliness", "count": 1},
    ]


async def test_the_reviews_by_reason_osn_and_outcome(records: RecordsStore) -> None:
    await write_fixture(records)

    async def reviews(by: GroupBy) -> list[tuple[str, int, int]]:
        found = await report(records, START, END, by)
        return [(row.group, row.referred, row.closed) for row in found.reviews]

    # Referred A (complex), B (persistent and complex), C (persistent); closed A, B, D (persistent).
    assert await reviews(GroupBy.REASON) == [("complex_issue", 2, 2), ("persistent_or_vexatious", 2, 2)]
    assert await reviews(GroupBy.OSN) == [("north-east", 2, 2), ("south-west", 1, 1)]
    assert await reviews(GroupBy.OUTCOME) == [("completed", 1, 2), ("declined", 1, 1), ("open", 1, 0)]
    stage_only = await report(records, START, END, GroupBy.STAGE)
    assert stage_only.reviews == [] and len(stage_only.stages_not_followed) == 2
    theme_only = await report(records, START, END, GroupBy.THEME)
    assert theme_only.reviews == [] and [t.count for t in theme_only.themes] == [1, 2, 1]


async def test_a_review_disposed_of_under_retention_still_counts(records: RecordsStore) -> None:
    await write_fixture(records)
    # F: north-west, suicide, completed, referred 01-08, closed 02-20; its records were destroyed on 2033-03-01 and
    # only its aggregates row is left.
    async with records.engine.begin() as connection:
        await connection.execute(
            disposed_reviews.insert().values(
                referral_id="F",
                osn="north-west",
                referral_level="local",
                reasons="suicide_or_alleged_suicide",
                mandatory=True,
                outcome="completed",
                referred_at=day("01-08"),
                closed_at=day("02-20"),
                disposed_at=day("03-01", 2033),
                run="retention-test",
                local_recommendations=0,
                national_recommendations=0,
                audit_events=12,
                notifications=4,
                access_log=1,
            )
        )
    found = await report(records, START, END, GroupBy.OSN)
    # As in the test above, plus F under north-west: referred in January, closed in February.
    assert [(r.group, r.referred, r.closed) for r in found.reviews] == [
        ("north-east", 2, 2),
        ("north-west", 1, 1),
        ("south-west", 1, 1),
    ]
    by_month = await report(records, START, END, GroupBy.MONTH)
    months = {r.group: (r.referred, r.closed) for r in by_month.reviews}
    by_reason = await report(records, START, END, GroupBy.REASON)
    assert ("suicide_or_alleged_suicide", 1, 1) in [(r.group, r.referred, r.closed) for r in by_reason.reviews]
    assert sum(referred for referred, _ in months.values()) == 4 and sum(closed for _, closed in months.values()) == 4
