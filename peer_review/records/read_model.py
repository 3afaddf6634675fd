"""The one read model of the records database: searches, a whole review's record, the recommendations register.

Pages, the API, exports and the CLI read the records database rather than Temporal's visibility store
because it holds the referral itself (summary, issues raised) and outlives Temporal's retention of
closed histories.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Select, false, func, literal, or_, select

from peer_review.domain.as_of import AsOfView, as_it_stood
from peer_review.domain.audit_chain import AuditRecord
from peer_review.domain.lifecycle import Parties, ReadScope, RecommendationScope
from peer_review.domain.models import (
    Findings,
    Outcome,
    Referral,
    RegisterEntry,
    RelatedReview,
    ReviewPolicy,
    Status,
    StatusView,
)
from peer_review.domain.review_selection import ReviewSelection
from peer_review.records.schema import recommendations, referrals
from peer_review.records.store import RecordsStore, as_utc

MAX_ROWS = 500
# Rows on one page of a list page (the Chair inbox, a reviewer's reviews, the audit search).
PAGE_SIZE = 50


@dataclass(frozen=True)
class ReviewRow:
    referral_id: str
    case_reference: str
    referred_by: str
    osn: str
    site: str
    reasons: list[str]
    mandatory: bool | None
    priority: str | None
    status: Status
    outcome: str | None
    chair: str | None
    reviewer: str | None
    overdue: bool
    created_at: datetime
    updated_at: datetime
    held: bool = False


@dataclass(frozen=True)
class RowPage:
    """One page of a list of reviews: its rows, which page it is (from 1) and how many reviews the list holds."""

    rows: list[ReviewRow]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return _page_count(self.total, self.size)

    @property
    def first(self) -> int:
        """The position in the whole list of this page's first row (0 for an empty list)."""
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


@dataclass(frozen=True)
class RegisterFilter:
    """What the register shows: by level, status, owner, OSN, theme, only overdue ones, or one review's.

    `level` and `status` take the enums' values; a RecommendationLevel or RecommendationStatus is one (a StrEnum).
    """

    level: str | None = None
    status: str | None = None
    owner: str | None = None
    osn: str | None = None
    theme: str | None = None
    overdue: bool = False
    referral_id: str | None = None


@dataclass(frozen=True)
class ReviewRecord:
    """Everything the records database holds about one review."""

    row: ReviewRow
    referral: Referral
    findings: Findings | None
    audit: AuditRecord
    recommendations: list[RegisterEntry]
    # Where the review stood at its last record batch (None for rows recorded before views were kept).
    view: StatusView | None = None


@dataclass(frozen=True)
class Search(ReviewSelection):
    """The records database's search: the list's criteria, held reviews only, and when reviews were referred."""

    held: bool = False
    created_from: date | None = None
    created_to: date | None = None


def _row(values: object) -> ReviewRow:
    r = values._mapping  # type: ignore[attr-defined]
    return ReviewRow(
        referral_id=r["referral_id"],
        case_reference=r["case_reference"],
        referred_by=r["referred_by"],
        osn=r["osn"],
        site=r["site"],
        reasons=[part for part in r["reasons"].split(",") if part],
        mandatory=r["mandatory"],
        priority=r["priority"],
        status=Status(r["status"]),
        outcome=r["outcome"],
        chair=r["chair"],
        reviewer=r["reviewer"],
        overdue=bool(r["overdue"]),
        created_at=as_utc(r["created_at"]),
        updated_at=as_utc(r["updated_at"]),
        held=bool(r["held"]),
    )


_DOCUMENTS = ("referral_json", "findings_json", "policy_json", "view_json")
_COLUMNS = [c for c in referrals.c if c.name not in _DOCUMENTS]


def _page_count(total: int, size: int) -> int:
    """Pages of `size` rows that `total` rows fill; an empty list is still one (empty) page."""
    return max(1, -(-total // size))


async def _page(store: RecordsStore, query: Select[tuple[object, ...]], number: int) -> RowPage:
    """Page `number` of `query`'s rows, or its last page when `number` is past the end."""
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    async with store.engine.connect() as connection:
        total = (await connection.execute(counted)).scalar_one()
        number = min(max(1, number), _page_count(total, PAGE_SIZE))
        found = await connection.execute(query.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
        return RowPage([_row(values) for values in found], number, total)


def _searched(criteria: Search) -> Select[tuple[object, ...]]:
    """The reviews meeting `criteria`, newest first."""
    query = select(*_COLUMNS)
    if criteria.status:
        query = query.where(referrals.c.status == criteria.status.value)
    if criteria.osn:
        query = query.where(referrals.c.osn == criteria.osn)
    if criteria.reason:
        # Reasons are stored comma-separated; wrapping both sides in commas matches whole values only.
        query = query.where((literal(",") + referrals.c.reasons + literal(",")).like(f"%,{criteria.reason.value},%"))
    if criteria.overdue:
        query = query.where(referrals.c.overdue.is_(True))
    if criteria.held:
        query = query.where(referrals.c.held.is_(True))
    if criteria.created_from:
        query = query.where(referrals.c.created_at >= datetime.combine(criteria.created_from, time(), UTC))
    if criteria.created_to:
        end = datetime.combine(criteria.created_to + timedelta(days=1), time(), UTC)
        query = query.where(referrals.c.created_at < end)
    return query.order_by(referrals.c.created_at.desc(), referrals.c.referral_id)


async def search(store: RecordsStore, criteria: Search, page: int = 1) -> RowPage:
    """The auditor's search: newest first, a page at a time."""
    return await _page(store, _searched(criteria), page)


async def awaiting(store: RecordsStore, osns: list[str], statuses: list[Status], page: int = 1) -> RowPage:
    """A Chair's inbox: overdue first, then oldest first, a page at a time."""
    query = (
        select(*_COLUMNS)
        .where(referrals.c.osn.in_(osns), referrals.c.status.in_([s.value for s in statuses]))
        .order_by(referrals.c.overdue.desc(), referrals.c.created_at.asc(), referrals.c.referral_id)
    )
    return await _page(store, query, page)


async def assigned_to(store: RecordsStore, reviewer: str, page: int = 1) -> RowPage:
    """A reviewer's reviews: those waiting on them first, overdue first, then oldest, a page at a time."""
    waiting = (referrals.c.status == Status.UNDER_REVIEW.value).desc()
    query = (
        select(*_COLUMNS)
        .where(referrals.c.reviewer == reviewer)
        .order_by(waiting, referrals.c.overdue.desc(), referrals.c.created_at.asc(), referrals.c.referral_id)
    )
    return await _page(store, query, page)


async def parties(store: RecordsStore, referral_id: str) -> Parties | None:
    """What the read rule needs to know about one review, as recorded; None if nothing is recorded yet."""
    query = select(referrals.c.osn, referrals.c.referred_by, referrals.c.reviewer).where(
        referrals.c.referral_id == referral_id
    )
    async with store.engine.connect() as connection:
        found = (await connection.execute(query)).first()
    return Parties(found.osn, found.referred_by, found.reviewer) if found else None


async def involving(store: RecordsStore, staff_id: str) -> list[str]:
    """The reviews assigned to `staff_id` or referred by them (what a reviewer or referrer may read)."""
    query = select(referrals.c.referral_id).where(
        or_(referrals.c.reviewer == staff_id, referrals.c.referred_by == staff_id)
    )
    async with store.engine.connect() as connection:
        return list((await connection.execute(query.limit(MAX_ROWS * 2))).scalars())


async def review_record(store: RecordsStore, referral_id: str) -> ReviewRecord | None:
    async with store.engine.connect() as connection:
        found = (
            await connection.execute(
                select(*_COLUMNS, referrals.c.referral_json, referrals.c.findings_json, referrals.c.view_json).where(
                    referrals.c.referral_id == referral_id
                )
            )
        ).first()
    audit = await store.audit_record(referral_id)
    if found is None or audit is None:
        return None
    referral = Referral.model_validate(json.loads(found.referral_json))
    findings = Findings.model_validate(json.loads(found.findings_json)) if found.findings_json else None
    registered = await recommendation_register(store, referral_id=referral_id, in_findings_order=True)
    return ReviewRecord(_row(found), referral, findings, audit, registered, _view(found.view_json))


async def recorded_view(store: RecordsStore, referral_id: str) -> StatusView | None:
    """Where the review stood at its last record batch; None if nothing (or no view) is recorded yet."""
    async with store.engine.connect() as connection:
        found = await connection.execute(select(referrals.c.view_json).where(referrals.c.referral_id == referral_id))
        return _view(found.scalar_one_or_none())


def _view(view_json: str | None) -> StatusView | None:
    return StatusView.model_validate_json(view_json) if view_json else None


async def recommendation_register(
    store: RecordsStore,
    *,
    level: str | None = None,
    status: str | None = None,
    referral_id: str | None = None,
    scope: ReadScope | RecommendationScope | None = None,
    selection: RegisterFilter | None = None,
    in_findings_order: bool = False,
) -> list[RegisterEntry]:
    """The register, limited to what `scope` may read (None: all of it): overdue first, then soonest due, then
    oldest; or, with `in_findings_order` (one review's record), in the order of its findings. One SQL query, served
    by the register's indexes."""
    chosen = selection or RegisterFilter(level=level, status=status, referral_id=referral_id)
    c = recommendations.c
    urgency = (func.coalesce(c.overdue, False).desc(), c.due_at.is_(None), c.due_at, c.recorded_at)
    query = select(recommendations).order_by(
        *((c.referral_id, c.position) if in_findings_order else (*urgency, c.position))
    )
    if scope is not None and not scope.everything:
        query = query.where(_readable(scope))
    for column, value in (
        (c.level, chosen.level),
        (c.status, chosen.status),
        (c.owner, chosen.owner),
        (c.osn, chosen.osn),
        (c.theme, chosen.theme),
        (c.referral_id, chosen.referral_id),
    ):
        if value:
            query = query.where(column == value)
    if chosen.overdue:
        query = query.where(c.overdue.is_(True))
    async with store.engine.connect() as connection:
        rows = (await connection.execute(query.limit(MAX_ROWS * 10))).all()
    return [
        RegisterEntry(
            recommendation_id=row.recommendation_id,
            referral_id=row.referral_id,
            level=row.level,
            text=row.text,
            owner=row.owner,
            theme=row.theme,
            stage=row.stage,
            osn=row.osn,
            status=row.status,
            due_at=as_utc(row.due_at) if row.due_at else None,
            overdue=bool(row.overdue),
            recorded_at=as_utc(row.recorded_at),
        )
        for row in rows
    ]


def _readable(scope: ReadScope | RecommendationScope) -> ColumnElement[bool]:
    """The recommendations of the reviews `scope` may read, and with a RecommendationScope also those of the OSNs
    the reader chairs and those the reader owns."""
    reviews = scope.reviews if isinstance(scope, RecommendationScope) else scope
    readable = select(referrals.c.referral_id).where(
        or_(
            referrals.c.osn.in_(sorted(reviews.osns)),
            referrals.c.reviewer == reviews.staff_id,
            referrals.c.referred_by == reviews.staff_id,
        )
    )
    either = [recommendations.c.referral_id.in_(readable)]
    if isinstance(scope, RecommendationScope):
        either += [recommendations.c.osn.in_(sorted(scope.osns)), recommendations.c.owner.in_(sorted(scope.owners))]
    return or_(*either)


async def related_reviews(
    store: RecordsStore, *, case_reference: str, customer_reference: str | None, excluding: str
) -> list[RelatedReview]:
    """Other reviews of the same case or the same customer, oldest first: ids, dates and outcomes only."""
    if not await store.schema_exists():
        return []  # nothing has been recorded yet, so nothing is related
    same_case = referrals.c.case_reference == case_reference
    same_customer: ColumnElement[bool] = (
        referrals.c.customer_reference == customer_reference if customer_reference else false()
    )
    query = (
        select(
            referrals.c.referral_id,
            referrals.c.case_reference,
            referrals.c.customer_reference,
            referrals.c.status,
            referrals.c.outcome,
            referrals.c.created_at,
            referrals.c.updated_at,
        )
        .where(or_(same_case, same_customer), referrals.c.referral_id != excluding)
        .order_by(referrals.c.created_at, referrals.c.referral_id)
        .limit(MAX_ROWS)
    )
    async with store.engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    related = []
    for row in rows:
        same = [
            name
            for name, matches in (
                ("case_reference", row.case_reference == case_reference),
                ("customer_reference", bool(customer_reference) and row.customer_reference == customer_reference),
            )
            if matches
        ]
        status = Status(row.status)
        related.append(
            RelatedReview.model_validate(
                {
                    "referral_id": row.referral_id,
                    "same": same,
                    "status": status,
                    "outcome": Outcome(row.outcome) if row.outcome else None,
                    "referred_at": as_utc(row.created_at),
                    "closed_at": as_utc(row.updated_at) if status is Status.CLOSED else None,
                }
            )
        )
    return related


async def related_to(store: RecordsStore, referral_id: str) -> list[RelatedReview] | None:
    """The reviews related to a recorded one; None when the records database does not hold it (yet)."""
    async with store.engine.connect() as connection:
        found = (
            await connection.execute(
                select(referrals.c.case_reference, referrals.c.customer_reference).where(
                    referrals.c.referral_id == referral_id
                )
            )
        ).first()
    if found is None:
        return None
    return await related_reviews(
        store, case_reference=found.case_reference, customer_reference=found.customer_reference, excluding=referral_id
    )


async def earlier_reviews_of_customer(store: RecordsStore, record: ReviewRecord) -> list[RelatedReview]:
    """What a reviewer may see of the same customer's history: earlier reviews' ids, dates and outcomes."""
    related = await related_reviews(
        store,
        case_reference=record.referral.case_reference,
        customer_reference=record.referral.customer.reference,
        excluding=record.referral.referral_id,
    )
    return [item for item in related if "customer_reference" in item.same and item.referred_at <= record.row.created_at]


async def as_it_stood_on(store: RecordsStore, referral_id: str, moment: datetime) -> AsOfView | None:
    """The review as it stood at `moment`, from the record alone; None if nothing is recorded or it was not yet
    referred then."""
    async with store.engine.connect() as connection:
        found = (
            await connection.execute(
                select(referrals.c.referral_json, referrals.c.policy_json, referrals.c.chair).where(
                    referrals.c.referral_id == referral_id
                )
            )
        ).first()
    audit = await store.audit_record(referral_id)
    if found is None or audit is None:
        return None
    referral = Referral.model_validate_json(found.referral_json)
    policy = ReviewPolicy.model_validate_json(found.policy_json) if found.policy_json else None
    return as_it_stood(referral, policy, [row.event for row in audit.events], found.chair, moment)


async def held_reviews(store: RecordsStore, criteria: Search, scope: ReadScope) -> list[ReviewRow]:
    """The reviews under a legal hold that `scope` may read. From the records: held reviews are mostly closed ones,
    whose Temporal history may be long gone."""
    async with store.engine.connect() as connection:
        found = await connection.execute(_searched(replace(criteria, held=True)).limit(MAX_ROWS))
        rows = [_row(values) for values in found]
    return [row for row in rows if scope.allows(Parties(row.osn, row.referred_by, row.reviewer))]
