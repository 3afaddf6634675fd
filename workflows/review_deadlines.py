"""What a review does when the deadline watch (workflows/deadline_watch.py) calls on it: look up again who holds
which post (keeping whom it had while the directory is down), and raise a due alarm, a reminder to whoever must act
next or an escalation of an overdue wait. Imported by workflows/peer_review.py only. Runs inside the workflow: no
I/O.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.deadlines import AlarmKind, Wait, escalation_recipients, reminder_recipients
    from peer_review.domain.lifecycle import contact_changes
    from peer_review.domain.models import Referral, ReviewContacts, Status
    from peer_review.domain.notices import Step
    from peer_review.temporal import search_attributes as sa
    from peer_review.temporal.metrics import Metric
    from peer_review.temporal.names import RESOLVE_CONTACTS

from workflows.side_effects import LOOKUP_DEADLINE, ReviewRecordKeeper, count, look_up


async def refreshed_contacts(
    referral: Referral, contacts: ReviewContacts, records: ReviewRecordKeeper
) -> ReviewContacts:
    """Who may act on the review now: the directory's answer if it changed who may act (audited), else `contacts`."""
    try:
        current = await look_up(RESOLVE_CONTACTS, referral, ReviewContacts, deadline=LOOKUP_DEADLINE)
    except ApplicationError:
        # The directory is down: keep who we had, so deadlines and alarms are not held up; the next move or
        # alarm looks again.
        return contacts
    changes = contact_changes(contacts, current)
    if not changes:
        return contacts
    records.note("contacts_changed", "; ".join(changes))
    return current


def raise_alarm(
    wait: Wait[Status],
    kind: AlarmKind,
    *,
    contacts: ReviewContacts,
    reviewer: str | None,
    records: ReviewRecordKeeper,
) -> Wait[Status]:
    """Remind whoever must act next, or escalate an overdue wait; returns the wait with this alarm raised."""
    raised = wait.after(kind)
    due = f"{wait.status.value} was due {wait.due_at:%Y-%m-%d %H:%M} UTC"
    if kind is AlarmKind.REMINDER:
        records.note("reminder", due)
        records.notify_all(reminder_recipients(wait.status, contacts, reviewer), Step.REMINDER)
        return raised
    workflow.upsert_search_attributes([sa.OVERDUE.value_set(True)])
    count(Metric.OVERDUE, status=wait.status.value)
    records.note("escalated", f"overdue ({raised.escalations}): {due}")
    records.notify_all(escalation_recipients(contacts, raised.escalations), Step.ESCALATION)
    return raised
