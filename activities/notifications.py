"""Notifications: the outbox by default, real mail over SMTP when configured. Internal recipients only."""

from __future__ import annotations

import email.policy
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib
from temporalio import activity

from activities.heartbeats import beating
from peer_review.domain.models import NotificationOutcome, NotificationRequest
from peer_review.domain.notices import Step, compose, is_internal, wording
from peer_review.domain.staff_directory import load_directory
from peer_review.records.outbox import OutboxEntry, outbox_status, save_outbox
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
    async def notify(self, request: NotificationRequest) -> NotificationOutcome:
        staff = load_directory(self.directory).find(request.recipient)
        address = staff.email if staff else None
        # The outbox keeps the wording; an email is built from it only when a mailer sends one (building one
        # parses every header, a cost the outbox never needs).
        text = wording(request.referral_id, Step(request.step))
        entry = OutboxEntry(
            idempotency_key=request.idempotency_key,
            referral_id=request.referral_id,
            recipient=request.recipient,
            address=address,
            step=request.step,
            subject=text.subject,
            body=text.body,
        )

        def outcome(result: Literal["delivered", "refused", "failed"], detail: str) -> NotificationOutcome:
            return NotificationOutcome(
                idempotency_key=request.idempotency_key,
                recipient=request.recipient,
                delivered=result == "delivered",
                failed=result == "failed",
                detail=detail,
            )

        context = {"referral_id": request.referral_id, "step": request.step}
        if address is None or not is_internal(address, self.internal_domains):
            # Refused for good, never retried: a review must not leave the organisation.
            detail = (
                "refused: recipient not in the staff directory"
                if address is None
                else ("refused: recipient is outside the internal domains")
            )
            await save_outbox(self.store, entry, "refused", detail)
            activity.logger.warning("notification refused", extra=context)
            return outcome("refused", detail)
        # Only a mailer can have sent it already; without one the outbox write below is the whole delivery.
        if self.mailer is not None and await outbox_status(self.store, request.idempotency_key) == "sent":
            return outcome("delivered", "already sent")
        if request.give_up:
            await save_outbox(self.store, entry, "failed", "gave up: not delivered within the retry period")
            activity.logger.error("notification failed", extra=context)
            return outcome("failed", "gave up: not delivered within the retry period")
        if self.mailer is None:
            await save_outbox(self.store, entry, "outbox", "recorded in the outbox")
            activity.logger.info("notification recorded in outbox", extra=context)
            return outcome("delivered", "recorded in the outbox")
        message = compose(
            referral_id=request.referral_id,
            step=Step(request.step),
            idempotency_key=request.idempotency_key,
            sender=self.sender,
            recipient=address,
        )
        try:
            async with beating(BEAT_EVERY):
                await self.mailer.send(message)
        except (aiosmtplib.SMTPException, OSError) as error:
            await save_outbox(self.store, entry, "retrying", f"{type(error).__name__}: {error}")
            raise
        await save_outbox(self.store, entry, "sent", "sent by SMTP")
        activity.logger.info("notification sent", extra=context)
        return outcome("delivered", "sent by SMTP")
