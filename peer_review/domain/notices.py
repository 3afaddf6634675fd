"""What each notification says. Pure.

A message names the referral and the step and says what to do next. It never carries case details
(summary, customer, issues raised, findings): mail is the channel most likely to leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum

from peer_review.domain.models import EMAIL


class Step(StrEnum):
    DECISION_NEEDED = "decision_needed"
    MANDATORY_STARTED = "mandatory_started"
    REFERRAL_APPROVED = "referral_approved"
    REFERRAL_DECLINED = "referral_declined"
    REVIEWER_NEEDED = "reviewer_needed"
    REVIEWER_ASSIGNED = "reviewer_assigned"
    CLEARANCE_NEEDED = "clearance_needed"
    SIGN_OFF_NEEDED = "sign_off_needed"
    RETURNED_FOR_REWORK = "returned_for_rework"
    REVIEW_CLOSED = "review_closed"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    MADE_MANDATORY = "made_mandatory"
    DIRECTORY_GAP = "directory_gap"
    LOCAL_FEEDBACK = "local_feedback"
    # Tracked recommendations: the reference is the recommendation id (PR-2026-0003-R1).
    RECOMMENDATION_TO_DECIDE = "recommendation_to_decide"
    RECOMMENDATION_TO_VERIFY = "recommendation_to_verify"
    RECOMMENDATION_REOPENED = "recommendation_reopened"
    RECOMMENDATION_REMINDER = "recommendation_reminder"
    RECOMMENDATION_ESCALATION = "recommendation_escalation"


# Where the outcome and the local recommendations of a closed review can be read (internal pages or the CLI):
# the message says where, never what.
FEEDBACK_WHERE = "/feedback/{ref} on the Peer Review pages, or peer-review feedback {ref} --as <your id>"


@dataclass(frozen=True)
class Notice:
    headline: str
    next_action: str


NOTICES: dict[Step, Notice] = {
    Step.DECISION_NEEDED: Notice(
        "A Peer Review referral needs your decision",
        "Approve or decline it: peer-review approve|decline {ref} --as <your id> --rationale ...",
    ),
    Step.MANDATORY_STARTED: Notice(
        "A mandatory Peer Review has started",
        "No decision is needed. Assign a peer reviewer: peer-review assign-reviewer {ref} --reviewer <id>",
    ),
    Step.REFERRAL_APPROVED: Notice("Your Peer Review referral was approved", "Nothing: a reviewer will be assigned."),
    Step.REFERRAL_DECLINED: Notice(
        "Your Peer Review referral was declined",
        "Read the Chair's rationale: peer-review audit {ref}",
    ),
    Step.REVIEWER_NEEDED: Notice(
        "A Peer Review needs a reviewer", "Assign a peer reviewer: peer-review assign-reviewer {ref} --reviewer <id>"
    ),
    Step.REVIEWER_ASSIGNED: Notice(
        "You have been assigned a Peer Review",
        "Review the case and submit findings: peer-review submit-findings {ref} FILE",
    ),
    Step.CLEARANCE_NEEDED: Notice(
        "A contentious Peer Review needs legal clearance", "Clear it: peer-review clear {ref}"
    ),
    Step.SIGN_OFF_NEEDED: Notice(
        "Peer Review findings are ready for sign-off",
        "Sign off or return for rework: peer-review sign-off|return-for-rework {ref}",
    ),
    Step.RETURNED_FOR_REWORK: Notice(
        "A Peer Review was returned for rework",
        "Read the reason (peer-review audit {ref}) and submit revised findings",
    ),
    Step.REVIEW_CLOSED: Notice(
        "A Peer Review has closed", f"Read the outcome and any local recommendations at {FEEDBACK_WHERE}"
    ),
    Step.REMINDER: Notice("A Peer Review deadline is one working day away", "Act today: peer-review status {ref}"),
    Step.ESCALATION: Notice(
        "A Peer Review is overdue and has been escalated to you",
        "Make sure it moves on: peer-review status {ref}",
    ),
    Step.MADE_MANDATORY: Notice(
        "A Peer Review has become mandatory",
        "No Chair decision is needed any more. Make sure a peer reviewer is assigned: peer-review status {ref}",
    ),
    Step.DIRECTORY_GAP: Notice(
        "A mandatory Peer Review started with a gap in the staff directory",
        "Read the gap (peer-review audit {ref}), make sure the review moves on, and have the directory corrected",
    ),
    Step.LOCAL_FEEDBACK: Notice(
        "A Peer Review of your site's practice has closed",
        f"Read the outcome and the local recommendations at {FEEDBACK_WHERE}",
    ),
    Step.RECOMMENDATION_TO_DECIDE: Notice(
        "A Peer Review recommendation is yours to accept or decline",
        "Read it and decide: peer-review recommendation show {ref} --as <your id>, then accept or decline",
    ),
    Step.RECOMMENDATION_TO_VERIFY: Notice(
        "A Peer Review recommendation is implemented and needs verifying",
        "Check the evidence: peer-review recommendation show {ref} --as <your id>, then verify or reopen",
    ),
    Step.RECOMMENDATION_REOPENED: Notice(
        "A Peer Review recommendation was reopened",
        "Read the reason: peer-review recommendation show {ref} --as <your id>",
    ),
    Step.RECOMMENDATION_REMINDER: Notice(
        "A Peer Review recommendation's deadline is one working day away",
        "Act today: peer-review recommendation show {ref} --as <your id>",
    ),
    Step.RECOMMENDATION_ESCALATION: Notice(
        "A Peer Review recommendation is overdue and has been escalated to you",
        "Make sure it moves on: peer-review recommendation show {ref} --as <your id>",
    ),
}


@dataclass(frozen=True)
class Wording:
    """What one notice says: the outbox keeps it as it is, a mailer sends it as an email (`compose`)."""

    subject: str
    body: str


def wording(referral_id: str, step: Step) -> Wording:
    notice = NOTICES[step]
    return Wording(
        subject=f"[Peer Review {referral_id}] {notice.headline}",
        body=(
            f"{notice.headline}.\n\n"
            f"Referral: {referral_id}\n"
            f"What to do next: {notice.next_action.format(ref=referral_id)}\n\n"
            "Peer Reviews are internal only and are never about blame. Do not forward this message outside "
            "the organisation.\n"
        ),
    )


def compose(text: Wording, *, idempotency_key: str, sender: str, recipient: str) -> EmailMessage:
    """The email that carries `text` (as `wording` gives it) to one recipient."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = text.subject
    # A stable Message-ID lets mail systems drop a duplicate if a retried send did reach the server.
    message["Message-ID"] = f"<{idempotency_key}@peer-review.internal>"
    message.set_content(text.body)
    return message


def is_internal(address: str, internal_domains: list[str]) -> bool:
    """True only for a single plain address on an internal domain or one of its subdomains."""
    if not EMAIL.fullmatch(address):
        return False
    domain = address.rpartition("@")[2].lower()
    return any(domain == d or domain.endswith("." + d) for d in internal_domains)
