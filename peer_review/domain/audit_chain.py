"""The audit hash chain: each recorded event carries the SHA-256 of the one before it. Pure.

Editing, deleting, inserting or reordering any row changes a hash that a later row depends on, so
`peer-review audit --verify` finds the first broken link without trusting the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from peer_review.domain.models import AuditEvent

GENESIS = "0" * 64


def event_hash(referral_id: str, event: AuditEvent, previous_hash: str) -> str:
    canonical = json.dumps(
        {"referral_id": referral_id, **event.model_dump(mode="json"), "previous_hash": previous_hash},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    event: AuditEvent
    previous_hash: str
    hash: str


@dataclass(frozen=True)
class ChainCheck:
    valid: bool
    problem: str | None = None
    broken_at_seq: int | None = None


def verify_chain(referral_id: str, rows: list[ChainedEvent]) -> ChainCheck:
    """Check rows (in stored order) form an unbroken chain numbered 1, 2, 3, ..."""
    previous = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        seq = row.event.seq
        if seq != expected_seq:
            return ChainCheck(False, f"expected event {expected_seq}, found event {seq}", seq)
        if row.previous_hash != previous:
            return ChainCheck(False, f"event {seq} does not follow event {seq - 1}", seq)
        if event_hash(referral_id, row.event, row.previous_hash) != row.hash:
            return ChainCheck(False, f"event {seq} was altered after it was recorded", seq)
        previous = row.hash
    return ChainCheck(True)


@dataclass(frozen=True)
class AuditRecord:
    referral_id: str
    events: list[ChainedEvent]
    last_seq: int | None

    def verify(self) -> ChainCheck:
        check = verify_chain(self.referral_id, self.events)
        # last_seq is read before the rows, so rows from a batch landing in between may exceed it; fewer rows
        # than last_seq can only mean rows were removed from the end.
        if check.valid and self.last_seq is not None and len(self.events) < self.last_seq:
            recorded = len(self.events)
            return ChainCheck(False, f"{self.last_seq} events were recorded, {recorded} remain", recorded + 1)
        return check
