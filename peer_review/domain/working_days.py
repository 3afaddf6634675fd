"""Working-day arithmetic for review deadlines: weekends and England and Wales bank holidays.

Scope is England and Wales only (the `holidays` package's GB subdivision "ENG"; "WLS" has the
same dates). Scotland and Northern Ireland have different bank holidays (2 January and St
Andrew's Day; St Patrick's Day and 12 July), so a deadline computed here is wrong for them.

Pure and deterministic so workflow code can call it: no clock, no environment, no I/O.
The holidays are data (peer_review.domain.bank_holidays, generated from the `holidays` package and checked
against it by the tests), read once at import and frozen.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from peer_review.domain.bank_holidays import BANK_HOLIDAYS

FIRST_YEAR = 2000
# The package has no GB rules after 2100 and silently reports no holidays at all, which would
# turn Christmas into a working day; refuse dates outside the span instead.
LAST_YEAR = 2100

# Every England and Wales bank holiday in the span, substitute days included (28 Dec 2026 for
# Boxing Day on a Saturday) and one-off days too (8 May 2023, the Coronation).
_BANK_HOLIDAYS: frozenset[date] = frozenset(
    date(year, int(day[:2]), int(day[3:])) for year, days in BANK_HOLIDAYS.items() for day in days.split()
)

_ONE_DAY = timedelta(days=1)


def _check_year(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{day} is outside the supported years {FIRST_YEAR}-{LAST_YEAR}")


def is_working_day(day: date) -> bool:
    """True unless `day` is a Saturday, Sunday or England and Wales bank holiday.

    Takes a `date`, not a `datetime`: a datetime never equals a date, so it would never match a
    holiday; call `.date()` deliberately, in the timezone you mean.
    """
    if isinstance(day, datetime):
        raise TypeError("is_working_day takes a date; pass moment.date()")
    _check_year(day)
    return day.weekday() < 5 and day not in _BANK_HOLIDAYS


def _check_moment(moment: datetime, days: int) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moment must be timezone-aware (workflow.now() is UTC)")
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")


def add_working_days(start: datetime, days: int) -> datetime:
    """The deadline `days` working days after `start`, at the same time of day.

    The result is on the `days`-th working day strictly after `start`'s date, so a Friday
    start with one working day ends on Monday. A start on a weekend or bank holiday counts from
    the next working day, which is day 1: Saturday plus one working day is Monday. The date is
    read in `start`'s own timezone (UTC for workflow.now()); the result keeps that tzinfo.
    """
    _check_moment(start, days)
    day = start.date()
    remaining = days
    while remaining:
        day += _ONE_DAY
        if is_working_day(day):
            remaining -= 1
    return start + (day - start.date())


def subtract_working_days(moment: datetime, days: int) -> datetime:
    """`days` working days before `moment`, at the same time of day, always on a working day.

    For reminders such as "one working day before the deadline": a Tuesday deadline after a
    bank holiday Monday gives the previous Friday. Inverts `add_working_days` when its start was
    a working day.
    """
    _check_moment(moment, days)
    day = moment.date()
    remaining = days
    while remaining:
        day -= _ONE_DAY
        if is_working_day(day):
            remaining -= 1
    return moment + (day - moment.date())


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`; negative when `end` is earlier.

    Half-open like the deadline rule, so `working_days_between(s.date(),
    add_working_days(s, n).date()) == n`, and it reads as "working days left" for a deadline.
    """
    if end < start:
        return -working_days_between(end, start)
    _check_year(start)
    _check_year(end)
    count = 0
    day = start
    while day < end:
        day += _ONE_DAY
        if is_working_day(day):
            count += 1
    return count
