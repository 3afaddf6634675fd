"""Notifications: the outbox by default, real mail over SMTP when configured. Internal recipients only.

A move's messages are written to the outbox in the transaction that records the move (activities.records); with a
mailer, the review then hands what was queued to `notify`, which sends it.
"""

from __future__ import annotations

import email.policy
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib
from temporalio import activity

from activities.heartbeats import beating
from peer_review.domain.models import (
    NotificationOutcome,
    NotificationOutcomes,
    NotificationRequest,
    Notifications,
    Staff,
)
from peer_review.domain.notices import Step, Wording, compose, is_internal, wording
from peer_review.domain.staff_directory import DirectoryError, load_directory
from peer_review.records.outbox import Attempt, OutboxEntry, outbox_statuses, outcome_of, save_outbox
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.names import NOTIFY

UNFOLDED_SMTP = email.policy.SMTP.clone(max_line_length=998)


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    """Sends through one SMTP server. The fields are aiosmtplib.send's connection options, under its names."""

    hostname: str
    port: int
    username: str | None
    password: str | None
    start_tls: bool
    timeout: float

    async def send(self, message: EmailMessage) -> None:
        # Flattened here rather than by aiosmtplib: its 78-column folding moves a long Subject onto a
        # continuation line, which some clients show with a stray leading space (SMTP allows 998). The one
        # recipient is named explicitly, never parsed back out of the headers.
        await aiosmtplib.send(
            message.as_bytes(policy=UNFOLDED_SMTP),
            sender=str(message["From"]),
            recipients=[str(message["To"])],
            **asdict(self),
        )


def mailer_from(settings: Settings) -> Mailer | None:
    if settings.notify == "outbox":
        return None
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_username,
        settings.smtp_password,
        settings.smtp_starttls,
        settings.smtp_timeout_seconds,
    )


# How often a send in progress tells Temporal this worker is alive: well inside the workflow's heartbeat timeout.
BEAT_EVERY = 2.0
# The first outcome of a message recorded while the staff directory could not be read.
DIRECTORY_UNAVAILABLE = "queued: the staff directory is unavailable"


class NotificationDesk:
    """What every message goes through before any mail is sent: the recipient's address from the directory, the
    internal-domain rule, and the wording the outbox keeps. Shared by the record write (which queues a move's
    messages in its own transaction) and the delivery (which sends what was queued)."""

    def __init__(self, *, directory: Path, internal_domains: list[str], mailer_configured: bool) -> None:
        self.directory = directory
        self.internal_domains = internal_domains
        self.mailer_configured = mailer_configured

    def entries(self, requests: list[NotificationRequest]) -> list[OutboxEntry]:
        staff = load_directory(self.directory)
        return [_entry(request, staff.find(request.recipient)) for request in requests]

    def first_attempts(self, requests: list[NotificationRequest]) -> list[Attempt]:
        """What becomes of each message when its move is recorded: refused, kept in the outbox (no mailer: that is
        the whole delivery), or queued for the mailer. Without a readable directory every message is queued: the
        record must not wait for the directory, and the delivery looks each recipient up again."""
        if not requests:
            return []
        try:
            entries = self.entries(requests)
        except DirectoryError:
            activity.logger.warning("staff directory unavailable; messages queued for delivery")
            return [Attempt(_entry(r, None), "queued", DIRECTORY_UNAVAILABLE) for r in requests]
        attempts = []
        for entry in entries:
            attempt = self.refusal(entry)
            if attempt is None:
                attempt = (
                    Attempt(entry, "queued", "queued for delivery by SMTP")
                    if self.mailer_configured
                    else Attempt(entry, "outbox", "recorded in the outbox")
                )
            attempts.append(attempt)
        return attempts

    def refusal(self, entry: OutboxEntry) -> Attempt | None:
        """A message that must never be sent (refused for good, never retried: a review must not leave the
        organisation), or None."""
        if entry.address is None:
            return Attempt(entry, "refused", "refused: recipient not in the staff directory")
        if not is_internal(entry.address, self.internal_domains):
            return Attempt(entry, "refused", "refused: recipient is outside the internal domains")
        return None


def _entry(request: NotificationRequest, staff: Staff | None) -> OutboxEntry:
    # The outbox keeps the wording; an email is built from it only when a mailer sends one (building one parses
    # every header, a cost the outbox never needs).
    text = wording(request.referral_id, Step(request.step))
    return OutboxEntry(
        idempotency_key=request.idempotency_key,
        referral_id=request.referral_id,
        recipient=request.recipient,
        address=staff.email if staff else None,
        step=request.step,
        subject=text.subject,
        body=text.body,
    )


class NotificationActivities:
    """Delivery by SMTP of the messages a record write queued."""

    def __init__(self, *, desk: NotificationDesk, store: RecordsStore, sender: str, mailer: Mailer | None) -> None:
        self.desk = desk
        self.store = store
        self.sender = sender
        self.mailer = mailer

    @activity.defn(name=NOTIFY)
    async def notify(self, batch: Notifications) -> NotificationOutcomes:
        """Deliver the messages one record write queued: each is sent, refused on a second look, kept in the outbox
        (no mailer), or (`give_up`) marked failed, and its row updated; a mail server that fails one send fails the
        attempt, every message not yet sent is marked retrying, and the retry skips what was sent."""
        entries = self.desk.entries(batch.requests)
        earlier = await outbox_statuses(self.store, [e.idempotency_key for e in entries])
        attempts: list[Attempt] = []
        outcomes: list[NotificationOutcome] = []
        try:
            for entry in entries:
                if earlier.get(entry.idempotency_key) == "sent":
                    outcomes.append(outcome_of(entry, "sent", "already sent"))
                    continue
                attempt = await self._attempt(entry, give_up=batch.give_up)
                attempts.append(attempt)
                outcomes.append(attempt.outcome())
                _log_outcome(entry.referral_id, entry.step, outcomes[-1])
        except (aiosmtplib.SMTPException, OSError) as error:
            failure = f"{type(error).__name__}: {error}"
            failed, *behind = entries[len(outcomes) :]
            attempts.append(Attempt(failed, "retrying", failure))
            # The messages behind it wait for the same retry, and their rows say so: left "queued", an outage would
            # look as if they had never been handed to the mailer.
            attempts.extend(
                Attempt(entry, "retrying", f"not tried: an earlier send failed ({failure})")
                for entry in behind
                if earlier.get(entry.idempotency_key) != "sent"
            )
            raise
        finally:
            await save_outbox(self.store, attempts)
        return NotificationOutcomes(outcomes=outcomes)

    async def _attempt(self, entry: OutboxEntry, *, give_up: bool) -> Attempt:
        # Checked again: the directory may have changed since the message was queued.
        refused = self.desk.refusal(entry)
        if refused is not None:
            return refused
        if give_up:
            return Attempt(entry, "failed", "gave up: not delivered within the retry period")
        if self.mailer is None:
            # The worker was restarted without a mailer while the message waited: the outbox keeps it.
            return Attempt(entry, "outbox", "recorded in the outbox")
        assert entry.address is not None  # refusal() refuses a message with no address
        # The entry holds the wording already; the email carries exactly that.
        text = Wording(entry.subject, entry.body)
        message = compose(text, idempotency_key=entry.idempotency_key, sender=self.sender, recipient=entry.address)
        async with beating(BEAT_EVERY):
            await self.mailer.send(message)
        return Attempt(entry, "sent", "sent by SMTP")


def log_outcomes(requests: list[NotificationRequest], outcomes: list[NotificationOutcome]) -> None:
    """Log what became of each message (after the write that recorded it)."""
    for request, outcome in zip(requests, outcomes, strict=True):
        _log_outcome(request.referral_id, request.step, outcome)


def _log_outcome(referral_id: str, step: str, outcome: NotificationOutcome) -> None:
    context = {"referral_id": referral_id, "step": step}
    if outcome.failed:
        activity.logger.error("notification failed", extra=context)
    elif outcome.queued:
        activity.logger.info("notification queued for delivery", extra=context)
    elif not outcome.delivered:
        activity.logger.warning("notification refused", extra=context)
    else:
        # Sent by SMTP, or recorded in the outbox: the detail says which.
        activity.logger.info("notification delivered", extra={**context, "detail": outcome.detail})
