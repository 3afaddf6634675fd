"""How long a review's record is kept, and what keeps it longer. Pure.

A closed review's record is destroyed once the retention period has passed since it closed, unless a legal hold
stops it or one of its recommendations is still being tracked (not yet verified, nor not accepted). What remains is
a disposal certificate in the retention register (peer_review.domain.register) and the review's aggregate row for
the learning reports.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from peer_review.domain.models import Contract

# ASSUMPTION: the department's retention period was not available. Seven years after closure is the usual period
# for UK government case records that may be needed for complaints, Ombudsman or coroner enquiries; set
# PEER_REVIEW_RETENTION_YEARS to the department's own.
DEFAULT_RETENTION_YEARS = 7

# A recommendation in any other status is still being tracked, and keeps its review (and record) alive.
SETTLED_RECOMMENDATION_STATUSES = frozenset({"verified", "not_accepted"})

# How many reviews one disposal transaction destroys: small enough that it never holds the database for long.
DEFAULT_BATCH_SIZE = 200


def keeps_review_alive(recommendation_status: str) -> bool:
    return recommendation_status not in SETTLED_RECOMMENDATION_STATUSES


def retention_cutoff(now: datetime, years: int) -> datetime:
    """Reviews closed before this moment are past retention (29 February counts back to 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


class RetentionRequest(Contract):
    """One retention run. `now` may name an earlier moment (a run as it would have gone then), never a later one:
    nobody with access to the namespace can bring a disposal forward."""

    dry_run: bool = False
    now: datetime | None = None
    # How many of the reviews that would go a dry run lists (the total is always counted).
    listed: int = Field(1000, ge=0, le=10_000)
    # Reviews destroyed per transaction.
    batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1, le=5_000)


class DisposalBatch(Contract):
    now: datetime
    run: str
    limit: int


class DisposalQuery(Contract):
    now: datetime
    limit: int


class RunSummary(Contract):
    now: datetime
    run: str
    batches: int


class Candidates(Contract):
    cutoff: datetime
    total: int
    referral_ids: list[str]


class RetentionResult(Contract):
    """What a run did (or, dry, would do): counts of what was destroyed, read back from the database."""

    run: str
    dry_run: bool
    now: datetime
    cutoff: datetime
    reviews: int
    audit_events: int = 0
    notifications: int = 0
    access_log: int = 0
    recommendations: int = 0
    batches: int = 0
    # A dry run: the first reviews that would go, oldest first.
    would_dispose: list[str] = Field(default_factory=list)
