"""Notifications: the outbox by default, real mail over SMTP when configured. Internal recipients only."""

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
from peer_review.domain.staff_directory import load_directory
from peer_review.records.outbox import Attempt, OutboxEntry, OutboxStatus, outbox_statuses, save_outbox
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


class NotificationActivities:
    def __init__(
        self, *, directory: Path, store: RecordsStore, sender: str, internal_domains: list[str], mailer: Mailer | None
    ) -> None:
        self.directory = directory
        self.store = store
        self.sender = sender
        self.internal_domains = internal_domains
        self.mailer = mailer

    @activity.defn(name=NOTIFY)
    async def notify(self, batch: Notifications) -> NotificationOutcomes:
        """Deliver one move's messages: each is refused, kept in the outbox, sent, or (`give_up`) marked failed, and
        its row written; a mail server that fails one send fails the attempt, and the retry skips what was sent."""
        staff = load_directory(self.directory)
        entries = [self._entry(request, staff.find(request.recipient)) for request in batch.requests]
        # Only a mailer can have sent one already; without one the outbox write is the whole delivery.
        earlier = {} if self.mailer is None else await outbox_statuses(self.store, [e.idempotency_key for e in entries])
        attempts: list[Attempt] = []
        outcomes: list[NotificationOutcome] = []
        try:
            for entry in entries:
                if earlier.get(entry.idempotency_key) == "sent":
                    outcomes.append(_outcome(entry, "sent", "already sent"))
                    continue
                attempt = await self._attempt(entry, give_up=batch.give_up)
                attempts.append(attempt)
                outcomes.append(_outcome(entry, attempt.status, attempt.detail))
                _log(attempt)
        except (aiosmtplib.SMTPException, OSError) as error:
            attempts.append(Attempt(entries[len(outcomes)], "retrying", f"{type(error).__name__}: {error}"))
            raise
        finally:
            await save_outbox(self.store, attempts)
        return NotificationOutcomes(outcomes=outcomes)

    def _entry(self, request: NotificationRequest, staff: Staff | None) -> OutboxEntry:
        # The outbox keeps the wording; an email is built from it only when a mailer sends one (building one
        # parses every header, a cost the outbox never needs).
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

    async def _attempt(self, entry: OutboxEntry, *, give_up: bool) -> Attempt:
        if entry.address is None:
            # Refused for good, never retried: a review must not leave the organisation.
            return Attempt(entry, "refused", "refused: recipient not in the staff directory")
        if not is_internal(entry.address, self.internal_domains):
            return Attempt(entry, "refused", "refused: recipient is outside the internal domains")
        if give_up:
            return Attempt(entry, "failed", "gave up: not delivered within the retry period")
        if self.mailer is None:
            return Attempt(entry, "outbox", "recorded in the outbox")
        # The entry holds the wording already; the email carries exactly that.
        text = Wording(entry.subject, entry.body)
        message = compose(text, idempotency_key=entry.idempotency_key, sender=self.sender, recipient=entry.address)
        async with beating(BEAT_EVERY):
            await self.mailer.send(message)
        return Attempt(entry, "sent", "sent by SMTP")


def _outcome(entry: OutboxEntry, status: OutboxStatus, detail: str) -> NotificationOutcome:
    return NotificationOutcome(
        idempotency_key=entry.idempotency_key,
        recipient=entry.recipient,
        delivered=status in ("sent", "outbox"),
        failed=status == "failed",
        detail=detail,
    )


def _log(attempt: Attempt) -> None:
    context = {"referral_id": attempt.entry.referral_id, "step": attempt.entry.step}
    if attempt.status == "refused":
        activity.logger.warning("notification refused", extra=context)
    elif attempt.status == "failed":
        activity.logger.error("notification failed", extra=context)
    elif attempt.status == "sent":
        activity.logger.info("notification sent", extra=context)
    else:
        activity.logger.info("notification recorded in outbox", extra=context)
