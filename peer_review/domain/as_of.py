"""A review as it stood at a given moment, rebuilt from its audit record alone. Pure.

The record outlives Temporal's history, so this answers a coroner's or the Ombudsman's "what was known on that
day" years later: the status, who was Chair and reviewer, the deadline then running and whether it had passed,
the findings submitted by then, and each decision with its reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from pydantic import BaseModel

from peer_review.domain.deadlines import period_days
from peer_review.domain.lifecycle import WAITING_STATUSES, ActionName, next_status, stage_of
from peer_review.domain.models import AuditEvent, Outcome, Referral, ReviewPolicy, Status
from peer_review.domain.working_days import add_working_days

_PEOPLES_ACTIONS = frozenset(action.value for action in ActionName)


class AsOfDeadline(BaseModel):
    status: Status
    waiting_since: datetime
    # None when the record does not hold the deadlines the review ran with (recorded before they were kept).
    due_at: datetime | None


class AsOfView(BaseModel):
    referral_id: str
    as_of: datetime
    status: Status
    stage: str
    outcome: Outcome | None
    mandatory: bool | None
    reasons: list[str]
    chair: str | None
    reviewer: str | None
    deadline: AsOfDeadline | None
    overdue: bool
    findings_submitted_at: list[datetime]
    # Every action a person took by then (with its rationale or reason), in order.
    decisions: list[AuditEvent]


def parse_moment(value: str) -> datetime:
    """An ISO 8601 moment, UTC unless it names a zone; a date alone is the end of that day (what was known by then).
    Raises ValueError."""
    if len(value) == len("2026-01-31"):
        return datetime.combine(date.fromisoformat(value), time.max, UTC)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_it_stood(
    referral: Referral,
    policy: ReviewPolicy | None,
    events: Sequence[AuditEvent],
    current_chair: str | None,
    moment: datetime,
) -> AsOfView | None:
    """The review at `moment` (None before it was referred). `current_chair` is the Chair as last recorded: earlier
    Chairs are found by reading the record's changes of contacts backwards."""
    then = [event for event in events if event.at <= moment]
    if not then:
        return None
    status = Status.REFERRED
    entered = then[0].at
    outcome: Outcome | None = None
    mandatory: bool | None = None
    reasons = [reason.value for reason in referral.reasons]
    reviewer: str | None = None
    for event in then:
        # A review's record holds only review statuses (a recommendation's are filed under its own id).
        if isinstance(event.to_status, Status) and event.to_status is not status:
            status, entered = event.to_status, event.at
        if event.action == "triaged":
            mandatory = False
        elif event.action in ("triaged_mandatory", "made_mandatory"):
            mandatory = True
        elif event.action == ActionName.ADD_REASON.value and event.detail:
            reasons.append(event.detail.split(":", 1)[0])
        elif event.action == ActionName.ASSIGN_REVIEWER.value and event.detail:
            reviewer = event.detail.removeprefix("reviewer ").strip()
        if event.action in _PEOPLES_ACTIONS and event.to_status is Status.CLOSED:
            outcome = next_status(ActionName(event.action))[1]
    deadline = _deadline(status, entered, policy)
    overdue = deadline is not None and (
        (deadline.due_at is not None and moment >= deadline.due_at)
        or any(e.action == "escalated" and (e.detail or "").startswith("overdue") and e.at >= entered for e in then)
    )
    return AsOfView(
        referral_id=referral.referral_id,
        as_of=moment,
        status=status,
        stage=stage_of(status),
        outcome=outcome,
        mandatory=mandatory,
        reasons=reasons,
        chair=_chair_at(current_chair, [event for event in events if event.at > moment]),
        reviewer=reviewer,
        deadline=deadline,
        overdue=overdue,
        findings_submitted_at=[e.at for e in then if e.action == ActionName.SUBMIT_FINDINGS.value],
        decisions=[e for e in then if e.action in _PEOPLES_ACTIONS],
    )


def _deadline(status: Status, entered: datetime, policy: ReviewPolicy | None) -> AsOfDeadline | None:
    if status not in WAITING_STATUSES:
        return None
    due = add_working_days(entered, period_days(status, policy)) if policy else None
    return AsOfDeadline(status=status, waiting_since=entered, due_at=due)


def _chair_at(current: str | None, later: Sequence[AuditEvent]) -> str | None:
    """Undo, newest first, each change of Chair recorded after the moment ("chair S100 -> S105")."""
    chair = current
    for event in reversed(later):
        if event.action != "contacts_changed" or not event.detail:
            continue
        for change in event.detail.split("; "):
            if change.startswith("chair ") and " -> " in change:
                before = change.removeprefix("chair ").split(" -> ", 1)[0]
                chair = None if before == "none" else before
    return chair
