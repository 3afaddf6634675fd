"""A real SMTP server (aiosmtpd) for the notification and fault tests: it can start late, stop, and answer slowly."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message

from aiosmtpd.controller import Controller

from tests.helpers.waiting import assert_eventually


class Inbox:
    """Every message the server accepted, and how many are being received right now."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.messages: list[Message] = []
        self.receiving = 0
        self._lock = threading.Lock()  # the server runs on its own thread and event loop

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802 - aiosmtpd's name
        with self._lock:
            self.receiving += 1
        try:
            # A slow server: the message is kept only after the delay, as a real server commits it at the end.
            await asyncio.sleep(self.delay)
            message = message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[attr-defined]
            with self._lock:
                self.messages.append(message)
        finally:
            with self._lock:
                self.receiving -= 1
        return "250 Message accepted for delivery"

    async def sends_under_way(self, at_least: int, within: timedelta = timedelta(seconds=60)) -> None:
        """Return once `at_least` messages are being received at the same moment: activities are mid-send."""

        async def sending() -> None:
            assert self.receiving >= at_least, "no notification was ever being sent"

        await assert_eventually(sending, within=within, interval=timedelta(milliseconds=50))

    def to(self, address: str) -> list[str]:
        """The subjects of the messages sent to `address`."""
        with self._lock:
            return [str(m["Subject"]) for m in self.messages if m["To"] == address]

    def message_ids(self, reviews: Iterable[str] | None = None) -> Counter[str]:
        """How often each Message-ID arrived; with `reviews` (referral ids), only those reviews' own messages, not
        their tracked recommendations' (which run on after the review closes, in workflows of their own)."""
        own = tuple(f"<{referral_id}." for referral_id in reviews) if reviews is not None else None
        with self._lock:
            found = [str(m["Message-ID"]) for m in self.messages]
        return Counter(m for m in found if own is None or m.startswith(own))


class MailServer:
    def __init__(self, inbox: Inbox, port: int) -> None:
        self.inbox = inbox
        self.port = port
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def __enter__(self) -> MailServer:
        """Serving for the block's length, stopped whatever happens in it."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def message_id(idempotency_key: str) -> str:
    """The Message-ID a notification is sent with (peer_review.domain.notices.compose)."""
    return f"<{idempotency_key}@peer-review.internal>"
