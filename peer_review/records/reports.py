"""Reports for the national team, as SQL aggregates over the records database (never records loaded into Python).

For a period (from one date to another, both included):
- reviews referred and closed, by month, reason, OSN or outcome;
- time in each status (median and 90th percentile, in days), from the moves in the audit record: where work waits;
- the Customer Journey stages found not followed (or only partly), by stage and OSN;
- recommendations by status, how many are overdue, and the median time from recording to implementation;
- recommendations by theme and month.

Percentiles are nearest-rank (the value at rank ceil(p·n) of n, ordered), computed in SQL: the value at that rank,
read in order from an index, the same statement on SQLite and PostgreSQL. Only time differences and month labels
differ between the two. The report's independent statements run side by side, each on a connection of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Float,
    Select,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    union_all,
)

from peer_review.domain.models import Reason
from peer_review.records.schema import disposed_reviews, journey_stages, recommendations, referrals, status_spans
from peer_review.records.store import RecordsStore

DAY_SECONDS = 86400
# Any SELECT of the reports, whatever its columns.
Query = Select[*tuple[Any, ...]]
Compound = CompoundSelect[*tuple[Any, ...]]


class GroupBy(StrEnum):
    """How the reviews are grouped (`--by`); `stage` and `theme` show only their own table."""

    MONTH = "month"
    REASON = "reason"
    OSN = "osn"
    STAGE = "stage"
    THEME = "theme"
    OUTCOME = "outcome"


class ReviewCount(BaseModel):
    group: str
    referred: int
    closed: int


class TimeInStatus(BaseModel):
    status: str
    moves: int
    median_days: float
    p90_days: float


class StagesNotFollowed(BaseModel):
    stage: str
    osn: str
    not_followed: int
    partly: int


class RecommendationCount(BaseModel):
    status: str
    count: int
    overdue: int


class ThemeCount(BaseModel):
    month: str
    theme: str
    count: int


class Report(BaseModel):
    start: date
    end: date
    by: GroupBy
    reviews: list[ReviewCount] = []
    time_in_status: list[TimeInStatus] = []
    stages_not_followed: list[StagesNotFollowed] = []
    recommendations: list[RecommendationCount] = []
    median_days_to_implementation: float | None = None
    themes: list[ThemeCount] = []


class Period:
    """From the start of `start` to the end of `end` (UTC)."""

    def __init__(self, start: date, end: date) -> None:
        self.start, self.end = start, end
        self.since = datetime.combine(start, time.min, tzinfo=UTC)
        self.until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)

    def holds(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.since, column < self.until)


class Dialect:
    """The two expressions SQLite and PostgreSQL spell differently."""

    def __init__(self, name: str) -> None:
        self.postgres = name == "postgresql"

    def month(self, column: Any) -> ColumnElement[str]:
        if self.postgres:
            return func.to_char(func.timezone("UTC", column), "YYYY-MM")
        # SQLAlchemy keeps SQLite datetimes as ISO text ("2026-01-20 10:00:00.000000", UTC here): the month is its
        # first seven characters, read without parsing each row's date as strftime would.
        return func.substr(column, 1, 7)

    def seconds(self, later: Any, earlier: Any) -> ColumnElement[float]:
        if self.postgres:
            return cast(func.extract("epoch", later - earlier), Float)
        return (func.julianday(later) - func.julianday(earlier)) * DAY_SECONDS


Rows = Callable[[Query | Compound], Awaitable[list[Any]]]


async def report(store: RecordsStore, start: date, end: date, by: GroupBy = GroupBy.MONTH) -> Report:
    period = Period(start, end)
    dialect = Dialect(store.engine.dialect.name)
    found = Report(start=start, end=end, by=by)

    async def rows(query: Query | Compound) -> list[Any]:
        # A connection per statement, so the statements below are read side by side (SQLite readers too, in WAL).
        async with store.engine.connect() as connection:
            return list((await connection.execute(query)).all())

    if by is GroupBy.STAGE:
        found.stages_not_followed = await _stages_found(rows, period)
    elif by is GroupBy.THEME:
        found.themes = [ThemeCount(**r._mapping) for r in await rows(_themes(period, dialect))]
    else:
        (
            found.reviews,
            found.time_in_status,
            found.stages_not_followed,
            found.recommendations,
            found.median_days_to_implementation,
            found.themes,
        ) = await asyncio.gather(
            _review_counts(rows, period, dialect, by),
            _time_in_status(rows, period),
            _stages_found(rows, period),
            _recommendation_counts(rows, period),
            _median_days_to_implementation(rows, period, dialect),
            _theme_counts(rows, period, dialect),
        )
    return found


async def _review_counts(rows: Rows, period: Period, dialect: Dialect, by: GroupBy) -> list[ReviewCount]:
    referred_queries, closed_queries = _referred(period, dialect, by), _closed(period, dialect, by)
    found = await asyncio.gather(*(rows(query) for query in (*referred_queries, *closed_queries)))
    counts = [_counts(part, by) for part in found]
    referred = _summed(counts[: len(referred_queries)])
    closed = _summed(counts[len(referred_queries) :])
    return [
        ReviewCount(group=group, referred=referred.get(group, 0), closed=closed.get(group, 0))
        for group in sorted(referred.keys() | closed.keys())
    ]


async def _time_in_status(rows: Rows, period: Period) -> list[TimeInStatus]:
    stays = await rows(_stays(period))
    ranks = {(r.status, r.percent): r.value for r in await rows(_stay_percentiles(period, stays))} if stays else {}
    return [
        TimeInStatus(status=status, moves=n, median_days=_days(ranks[status, 50]), p90_days=_days(ranks[status, 90]))
        for status, n in stays
    ]


async def _stages_found(rows: Rows, period: Period) -> list[StagesNotFollowed]:
    return [StagesNotFollowed(**r._mapping) for r in await rows(_stages(period))]


async def _recommendation_counts(rows: Rows, period: Period) -> list[RecommendationCount]:
    return [RecommendationCount(**r._mapping) for r in await rows(_recommendations(period))]


async def _median_days_to_implementation(rows: Rows, period: Period, dialect: Dialect) -> float | None:
    implemented, took = _implementation_times(period, dialect)
    n = (await rows(select(func.count()).select_from(implemented.subquery())))[0][0]
    if not n:
        return None
    return _days((await rows(_nearest_rank(implemented, took, 50, n)))[0][0])


async def _theme_counts(rows: Rows, period: Period, dialect: Dialect) -> list[ThemeCount]:
    return [ThemeCount(**r._mapping) for r in await rows(_themes(period, dialect))]


def _days(seconds: float | None) -> float:
    return round(float(seconds or 0) / DAY_SECONDS, 2)


# --- Reviews referred and closed. ---------------------------------------------------------------------------


def _grouped(query: Query, table: Table, group: ColumnElement[Any], by: GroupBy) -> Query:
    if by is GroupBy.REASON:
        # Reasons are stored comma-separated; wrapping both sides in commas matches whole values only. One pass,
        # one count per reason (a review with two reasons counts under each).
        listed = literal(",") + table.c.reasons + literal(",")
        return query.with_only_columns(
            *(_count_where(listed.like(f"%,{reason.value},%")).label(reason.value) for reason in Reason)
        )
    return query.add_columns(group.label("group")).group_by(group)


def _counts(found: list[Any], by: GroupBy) -> dict[str, int]:
    """Counts by group: from one row per group, or (by reason) from the one row with a column per reason."""
    if by is GroupBy.REASON:
        counted = {reason.value: int(found[0]._mapping[reason.value] or 0) for reason in Reason} if found else {}
        return {reason: count for reason, count in counted.items() if count}
    return {row.group: row.count for row in found}


def _group_column(by: GroupBy, table: Table, month: ColumnElement[str]) -> ColumnElement[Any]:
    if by is GroupBy.OSN:
        return table.c.osn
    if by is GroupBy.OUTCOME:
        return func.coalesce(table.c.outcome, "open")
    return month


# Where reviews are counted, with the column that says when each was referred: the records of a review past
# retention are destroyed, but its aggregates stay behind in disposed_reviews, so the counts never fall.
_COUNTED: tuple[tuple[Table, str], ...] = ((referrals, "created_at"), (disposed_reviews, "referred_at"))


def _referred(period: Period, dialect: Dialect, by: GroupBy) -> list[Query]:
    return [_counted(table, table.c[referred_at], period, dialect, by) for table, referred_at in _COUNTED]


def _closed(period: Period, dialect: Dialect, by: GroupBy) -> list[Query]:
    """Reviews closed in the period: when each moved into `closed` (kept on its row as the move is appended)."""
    return [_counted(table, table.c.closed_at, period, dialect, by) for table, _ in _COUNTED]


def _counted(table: Table, moment: ColumnElement[Any], period: Period, dialect: Dialect, by: GroupBy) -> Query:
    query = select(func.count().label("count")).select_from(table).where(period.holds(moment))
    return _grouped(query, table, _group_column(by, table, dialect.month(moment)), by)


def _summed(counts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for found in counts:
        for group, count in found.items():
            total[group] = total.get(group, 0) + count
    return total


# --- Durations: time in each status, time to implementation. -------------------------------------------------


def _stays(period: Period) -> Query:
    """How many stays in each status were entered in the period and since left (the database pairs each record's
    moves as they are written: status_spans). Reviews and recommendations alike."""
    c = status_spans.c
    return select(c.status, func.count()).where(period.holds(c.entered_at)).group_by(c.status).order_by(c.status)


def _stay_percentiles(period: Period, stays: list[Any]) -> Compound:
    """The median and 90th percentile stay in each status of `stays` ((status, count) pairs), in one statement."""
    c = status_spans.c
    picks = []
    for status, n in stays:
        values = select(c.seconds.label("value")).where(c.status == status, period.holds(c.entered_at))
        for percent in (50, 90):
            ranked = _nearest_rank(values, c.seconds, percent, n).subquery()
            picks.append(select(literal(status).label("status"), literal(percent).label("percent"), ranked.c.value))
    return union_all(*picks)


def _implementation_times(period: Period, dialect: Dialect) -> tuple[Query, ColumnElement[float]]:
    """The seconds from recording to implementation of each recommendation recorded in the period, and that column."""
    c = recommendations.c
    took = dialect.seconds(c.implemented_at, c.recorded_at)
    return select(took).where(c.implemented_at.is_not(None), period.holds(c.recorded_at)), took


def _nearest_rank(values: Query, value: ColumnElement[Any], percent: int, count: int) -> Query:
    """The `percent`th percentile of `count` values (nearest rank: the value at rank ceil(percent·count/100), in
    order): read in order and stepped over, served by a covering index where there is one, never sorted whole."""
    rank = (percent * count + 99) // 100
    return values.order_by(value).offset(rank - 1).limit(1)


# --- Stages, recommendations, themes. --------------------------------------------------------------------------


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _stages(period: Period) -> Query:
    j = journey_stages.c
    return (
        select(
            j.stage,
            j.osn,
            _count_where(j.followed == "no").label("not_followed"),
            _count_where(j.followed == "partly").label("partly"),
        )
        .where(j.followed.in_(["no", "partly"]), period.holds(j.recorded_at))
        .group_by(j.stage, j.osn)
        .order_by(j.stage, j.osn)
    )


def _recommendations(period: Period) -> Query:
    c = recommendations.c
    return (
        select(c.status, func.count().label("count"), _count_where(c.overdue.is_(True)).label("overdue"))
        .where(period.holds(c.recorded_at))
        .group_by(c.status)
        .order_by(c.status)
    )


def _themes(period: Period, dialect: Dialect) -> Query:
    c = recommendations.c
    month = dialect.month(c.recorded_at)
    theme = func.coalesce(c.theme, literal_column("'(none)'"))
    return (
        select(month.label("month"), theme.label("theme"), func.count().label("count"))
        .where(period.holds(c.recorded_at))
        .group_by(month, theme)
        .order_by(month, theme)
    )


class PanelRecommendation(BaseModel):
    """A recommendation as the panel pack shows it: its words, level, theme, stage and status; no ids or owner."""

    level: str
    theme: str | None
    stage: str | None
    status: str
    text: str


PANEL_ITEMS = 500


async def panel_recommendations(store: RecordsStore, start: date, end: date) -> list[PanelRecommendation]:
    """The recommendations recorded in the period, national first (at most PANEL_ITEMS): the pack's only free text."""
    period, c = Period(start, end), recommendations.c
    query = (
        select(c.level, c.theme, c.stage, c.status, c.text)
        .where(period.holds(c.recorded_at))
        .order_by(c.level.desc(), c.theme, c.recorded_at)
        .limit(PANEL_ITEMS)
    )
    async with store.engine.connect() as connection:
        return [PanelRecommendation(**row._mapping) for row in await connection.execute(query)]
