"""Deadlines, reminders and escalation for each waiting status, in working days. Pure.

A review that silently stalls is the failure this service exists to prevent. Each waiting status has a
deadline counted in working days from when it was entered; a reminder goes one working day before it; at
the deadline the review is overdue and escalated, and the escalation repeats each further period until the
waiting ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from peer_review.domain.models import ReviewContacts, ReviewPolicy, Status
from peer_review.domain.working_days import add_working_days, subtract_working_days

# What waits: a review's status, or a tracked recommendation's.
W = TypeVar("W", bound=StrEnum)


class AlarmKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"


def period_days(status: Status, policy: ReviewPolicy) -> int:
    return {
        Status.AWAITING_CHAIR_DECISION: policy.chair_decision_days,
        Status.AWAITING_REVIEWER: policy.reviewer_assignment_days,
        Status.UNDER_REVIEW: policy.review_days,
        Status.AWAITING_LEGAL_CLEARANCE: policy.legal_clearance_days,
        Status.AWAITING_SIGN_OFF: policy.sign_off_days,
    }[status]


@dataclass(frozen=True)
class Wait(Generic[W]):
    """One spell in a waiting status, and how far its alarms have gone."""

    status: W
    entered_at: datetime
    due_at: datetime
    period_days: int
    reminded: bool = False
    escalations: int = 0

    @property
    def overdue(self) -> bool:
        return self.escalations > 0

    def next_alarm(self) -> tuple[datetime, AlarmKind]:
        if not self.reminded:
            reminder_at = subtract_working_days(self.due_at, 1)
            # With a one-day deadline the reminder would fall at the moment of entry: skip it.
            if reminder_at > self.entered_at:
                return reminder_at, AlarmKind.REMINDER
        if self.escalations == 0:
            return self.due_at, AlarmKind.ESCALATION
        return add_working_days(self.due_at, self.period_days * self.escalations), AlarmKind.ESCALATION

    def after(self, kind: AlarmKind) -> Wait[W]:
        if kind is AlarmKind.REMINDER:
            return replace(self, reminded=True)
        return replace(self, reminded=True, escalations=self.escalations + 1)


def start_wait(status: Status, entered_at: datetime, policy: ReviewPolicy) -> Wait[Status]:
    return wait_from(status, entered_at, period_days(status, policy))


def wait_from(status: W, entered_at: datetime, days: int) -> Wait[W]:
    """A wait of `days` working days in `status`, from `entered_at`."""
    return Wait(status, entered_at, add_working_days(entered_at, days), days)


def reminder_recipients(status: Status, contacts: ReviewContacts, reviewer: str | None) -> list[str]:
    """Whoever must act next."""
    chair = [contacts.chair] if contacts.chair else []
    if status is Status.UNDER_REVIEW:
        return [reviewer] if reviewer else chair
    if status is Status.AWAITING_LEGAL_CLEARANCE:
        return list(contacts.focal_points)
    return chair


def escalation_recipients(contacts: ReviewContacts, escalations: int) -> list[str]:
    """The deputy Chair first; from the second escalation (or with no deputy) the Focal Point too."""
    recipients = list(contacts.deputies)
    if escalations > 1 or not recipients:
        recipients += [f for f in contacts.focal_points if f not in recipients]
    return recipients
