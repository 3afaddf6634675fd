"""Working-day arithmetic against England and Wales bank holidays (peer_review.domain.working_days).

The property tests check the arithmetic against an oracle built here straight from the
`holidays` package; the fixed examples pin dates checked by hand against that package and the
published gov.uk lists for 2026-2027.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from peer_review.domain.working_days import (
    FIRST_YEAR,
    LAST_YEAR,
    add_working_days,
    is_working_day,
    subtract_working_days,
    working_days_between,
)
from tests.helpers import PROPERTY
from tests.helpers.bank_holidays import TABLE, render

# The shared property settings, with more examples: each one is cheap.
MORE = settings(PROPERTY, max_examples=300)

ORACLE: frozenset[date] = frozenset(
    holidays.country_holidays("GB", subdiv="ENG", years=range(FIRST_YEAR, LAST_YEAR + 1))
)

# Far enough from the end of the span that adding up to MAX_DAYS working days stays inside it.
EARLIEST = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(LAST_YEAR - 1, 6, 30, 23, 59, 59, tzinfo=UTC)
MAX_DAYS = 150

moments = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None),
    max_value=LATEST.replace(tzinfo=None),
    timezones=st.just(UTC),
)
day_counts = st.integers(min_value=1, max_value=MAX_DAYS)
dates = st.dates(min_value=EARLIEST.date(), max_value=LATEST.date())


def oracle_working(day: date) -> bool:
    return day.weekday() < 5 and day not in ORACLE


def oracle_count(after: date, up_to: date) -> int:
    """Working days d with after < d <= up_to, counted one by one."""
    span = (up_to - after).days
    return sum(oracle_working(after + timedelta(days=i)) for i in range(1, span + 1))


def at(day: date, hour: int = 10, minute: int = 30) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


# --- properties -----------------------------------------------------------------------------


@MORE
@given(start=moments, n=day_counts)
def test_add_never_lands_on_a_weekend_or_bank_holiday(start: datetime, n: int) -> None:
    deadline = add_working_days(start, n)
    assert deadline.weekday() < 5
    assert deadline.date() not in ORACLE
    assert is_working_day(deadline.date())


@MORE
@given(start=moments, n=day_counts)
def test_add_keeps_time_of_day_and_timezone(start: datetime, n: int) -> None:
    deadline = add_working_days(start, n)
    assert deadline.timetz() == start.timetz()
    assert deadline.tzinfo is UTC


@MORE
@given(start=moments, n=day_counts)
def test_add_counts_exactly_n_working_days(start: datetime, n: int) -> None:
    deadline = add_working_days(start, n)
    assert oracle_count(start.date(), deadline.date()) == n
    assert working_days_between(start.date(), deadline.date()) == n


@MORE
@given(start=moments, n=day_counts)
def test_add_spans_at_least_n_calendar_days(start: datetime, n: int) -> None:
    deadline = add_working_days(start, n)
    assert (deadline.date() - start.date()).days >= n
    assert deadline - start >= timedelta(days=n)


@MORE
@given(start=moments, n=day_counts, extra=st.integers(min_value=1, max_value=30))
def test_add_is_strictly_monotonic_in_n(start: datetime, n: int, extra: int) -> None:
    assert add_working_days(start, n) < add_working_days(start, n + extra)


@MORE
@given(
    first=dates,
    gap=st.integers(min_value=0, max_value=40),
    n=day_counts,
    clock=st.times(),
)
def test_add_is_monotonic_in_start(first: date, gap: int, n: int, clock: time) -> None:
    # Same time of day for both starts: with different times, Friday 17:00 and Saturday 09:00
    # both land on Monday and keep their own times, so only the dates are monotonic there.
    early = datetime.combine(first, clock, tzinfo=UTC)
    late = early + timedelta(days=gap)
    assert add_working_days(early, n) <= add_working_days(late, n)


@MORE
@given(start=moments, n=day_counts)
def test_subtract_inverts_add_for_working_day_starts(start: datetime, n: int) -> None:
    assume(oracle_working(start.date()))
    assert subtract_working_days(add_working_days(start, n), n) == start


@MORE
@given(moment=moments, n=day_counts)
def test_add_inverts_subtract_for_working_day_moments(moment: datetime, n: int) -> None:
    assume(oracle_working(moment.date()))
    assume(moment - timedelta(days=2 * MAX_DAYS) >= EARLIEST)
    assert add_working_days(subtract_working_days(moment, n), n) == moment


@MORE
@given(moment=moments, n=day_counts)
def test_subtract_lands_n_working_days_earlier_on_a_working_day(moment: datetime, n: int) -> None:
    assume(moment - timedelta(days=2 * MAX_DAYS) >= EARLIEST)
    earlier = subtract_working_days(moment, n)
    assert oracle_working(earlier.date())
    assert earlier.timetz() == moment.timetz()
    assert (moment.date() - earlier.date()).days >= n
    # Working days in [earlier, moment): n, since earlier is itself a working day.
    assert oracle_count(earlier.date() - timedelta(days=1), moment.date() - timedelta(days=1)) == n


@MORE
@given(day=st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 12, 31)))
def test_is_working_day_matches_the_package(day: date) -> None:
    assert is_working_day(day) == oracle_working(day)


@MORE
@given(low=dates, gap=st.integers(min_value=0, max_value=400))
def test_working_days_between_counts_and_is_antisymmetric(low: date, gap: int) -> None:
    high = low + timedelta(days=gap)
    assert working_days_between(low, high) == oracle_count(low, high)
    assert working_days_between(high, low) == -working_days_between(low, high)


# --- the package's dates, checked by hand ---------------------------------------------------


def test_package_has_the_published_2026_2027_england_bank_holidays() -> None:
    published = {
        date(2026, 1, 1),
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 4),
        date(2026, 5, 25),
        date(2026, 8, 31),
        date(2026, 12, 25),  # Friday
        date(2026, 12, 28),  # Monday, substitute for Boxing Day on Saturday 26th
        date(2027, 1, 1),  # Friday
        date(2027, 3, 26),  # Good Friday
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 3),
        date(2027, 5, 31),
        date(2027, 8, 30),
        date(2027, 12, 27),  # Monday, substitute for Christmas Day on Saturday 25th
        date(2027, 12, 28),  # Tuesday, substitute for Boxing Day on Sunday 26th
    }
    on_weekdays = {d for d in ORACLE if d.year in (2026, 2027) and d.weekday() < 5}
    assert on_weekdays == published


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 24), True),  # Thursday, Christmas Eve is not a bank holiday
        (date(2026, 12, 25), False),  # Friday, Christmas Day
        (date(2026, 12, 26), False),  # Saturday, Boxing Day
        (date(2026, 12, 28), False),  # Monday, substitute day for Boxing Day
        (date(2026, 12, 29), True),
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), False),  # Friday, New Year's Day
        (date(2027, 1, 4), True),
        (date(2027, 3, 26), False),  # Good Friday
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 12, 27), False),  # substitute for Christmas Day
        (date(2027, 12, 28), False),  # substitute for Boxing Day
        (date(2022, 9, 19), False),  # one-off: State Funeral of Queen Elizabeth II
        (date(2023, 5, 8), False),  # one-off: Coronation of Charles III
        # England and Wales scope: these are bank holidays only in Scotland or Northern Ireland.
        (date(2026, 1, 2), True),
        (date(2026, 3, 17), True),
        (date(2026, 7, 13), True),
        (date(2026, 11, 30), True),
    ],
)
def test_is_working_day_examples(day: date, working: bool) -> None:
    assert is_working_day(day) is working


# --- fixed deadlines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, date(2026, 12, 24)),  # Thursday
        (2, date(2026, 12, 29)),  # Tuesday: skips Fri 25 (Christmas), weekend, Mon 28 (substitute)
        (3, date(2026, 12, 30)),
        (4, date(2026, 12, 31)),
        (5, date(2027, 1, 4)),  # Monday: skips Fri 1 Jan 2027 and the weekend
        (6, date(2027, 1, 5)),
    ],
)
def test_christmas_and_new_year_2026(n: int, expected: date) -> None:
    start = at(date(2026, 12, 23))  # Wednesday
    assert add_working_days(start, n) == at(expected)


def test_easter_2027() -> None:
    maundy_thursday = at(date(2027, 3, 25))
    assert add_working_days(maundy_thursday, 1) == at(date(2027, 3, 30))
    assert subtract_working_days(at(date(2027, 3, 30)), 1) == maundy_thursday


def test_christmas_2027_has_two_substitute_days() -> None:
    assert add_working_days(at(date(2027, 12, 24)), 1) == at(date(2027, 12, 29))


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2026, 12, 25), date(2026, 12, 29)),  # from a bank holiday
        (date(2026, 12, 26), date(2026, 12, 29)),  # from a Saturday
        (date(2027, 1, 3), date(2027, 1, 4)),  # from a Sunday: Monday is working day 1
        (date(2027, 1, 1), date(2027, 1, 4)),
    ],
)
def test_non_working_start_counts_next_working_day_as_one(start: date, expected: date) -> None:
    assert add_working_days(at(start), 1) == at(expected)


@pytest.mark.parametrize(
    ("deadline", "reminder"),
    [
        (date(2026, 12, 29), date(2026, 12, 24)),
        (date(2027, 1, 4), date(2026, 12, 31)),
        (date(2027, 3, 30), date(2027, 3, 25)),
        (date(2026, 12, 28), date(2026, 12, 24)),  # from a bank holiday, onto a working day
    ],
)
def test_one_working_day_before_the_deadline(deadline: date, reminder: date) -> None:
    assert subtract_working_days(at(deadline, 17, 0), 1) == at(reminder, 17, 0)


def test_working_days_between_examples() -> None:
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 29)) == 2
    assert working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 5
    assert working_days_between(date(2026, 12, 23), date(2026, 12, 23)) == 0
    assert working_days_between(date(2027, 1, 4), date(2026, 12, 23)) == -5


def test_other_timezones_keep_their_own_wall_clock() -> None:
    plus_one = timezone(timedelta(hours=1))
    start = datetime(2026, 12, 23, 0, 30, tzinfo=plus_one)  # still 22 Dec in UTC
    assert add_working_days(start, 2) == datetime(2026, 12, 29, 0, 30, tzinfo=plus_one)


# --- misuse ---------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, -1])
def test_days_must_be_positive(days: int) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(at(date(2026, 12, 23)), days)
    with pytest.raises(ValueError, match="at least 1"):
        subtract_working_days(at(date(2026, 12, 23)), days)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working_days(datetime(2026, 12, 23, 10, 0), 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        subtract_working_days(datetime(2026, 12, 23, 10, 0), 1)


def test_datetime_is_not_accepted_as_a_date() -> None:
    with pytest.raises(TypeError, match="date"):
        is_working_day(at(date(2026, 12, 25)))


@pytest.mark.parametrize("day", [date(FIRST_YEAR - 1, 12, 31), date(LAST_YEAR + 1, 1, 3)])
def test_dates_outside_the_supported_years_are_refused(day: date) -> None:
    with pytest.raises(ValueError, match="outside the supported years"):
        is_working_day(day)


def test_deadlines_past_the_supported_years_are_refused() -> None:
    with pytest.raises(ValueError, match="outside the supported years"):
        add_working_days(at(date(LAST_YEAR, 12, 29)), 5)
    with pytest.raises(ValueError, match="outside the supported years"):
        subtract_working_days(at(date(FIRST_YEAR, 1, 4)), 5)


def test_the_bank_holiday_table_is_what_the_holidays_package_gives() -> None:
    assert TABLE.read_text() == render(), (
        "peer_review/domain/bank_holidays.py is stale: python -m tests.helpers.bank_holidays"
    )
    assert {d for d in ORACLE if not is_working_day(d)} == ORACLE
