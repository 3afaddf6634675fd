"""The audit chain: each recorded event carries an HMAC-SHA-256, under a chain key, over itself and the MAC of the
event before it. Pure.

Editing, deleting, inserting or reordering any row changes a MAC that a later row depends on, so
`peer-review audit --verify` finds the first broken link without trusting the database. The key is held by the
worker (which seals rows) and by auditors (who verify), never by the database: whoever owns the database can
rewrite a row and recompute every later hash with any public algorithm, but not the keyed MACs. Each row names
the id of the key that sealed it, so the chain key ring can be rotated like the payload key ring.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from peer_review.domain.models import AuditEvent

GENESIS = "0" * 64


def canonical(referral_id: str, event: AuditEvent, previous_hash: str) -> bytes:
    document = {"referral_id": referral_id, **event.model_dump(mode="json"), "previous_hash": previous_hash}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_mac(key: bytes, referral_id: str, event: AuditEvent, previous_hash: str) -> str:
    return hmac.new(key, canonical(referral_id, event, previous_hash), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainKey:
    """The key that seals new rows: its id is stored with each row."""

    id: str
    secret: bytes


@dataclass(frozen=True)
class ChainedEvent:
    event: AuditEvent
    previous_hash: str
    hash: str
    key_id: str


@dataclass(frozen=True)
class ChainCheck:
    valid: bool
    problem: str | None = None
    broken_at_seq: int | None = None


def verify_chain(referral_id: str, rows: list[ChainedEvent], keys: Mapping[str, bytes]) -> ChainCheck:
    """Check rows (in stored order) form an unbroken chain numbered 1, 2, 3, ..., each sealed by a key in `keys`."""
    links = [Link(row.event.seq, row.previous_hash, row.hash, row.key_id) for row in rows]
    return verify_links(
        links, keys, lambda key, index: event_mac(key, referral_id, rows[index].event, rows[index].previous_hash)
    )


@dataclass(frozen=True)
class Link:
    """What every keyed chain (a review's audit events, the retention register) holds besides its content."""

    seq: int
    previous_hash: str
    hash: str
    key_id: str


def verify_links(links: list[Link], keys: Mapping[str, bytes], mac: Callable[[bytes, int], str]) -> ChainCheck:
    """Check links (in stored order) are numbered 1, 2, 3, ..., each follows the one before and is sealed by a key
    in `keys`; `mac(key, index)` recomputes the MAC of the link at `index`."""
    previous = GENESIS
    for index, row in enumerate(links):
        expected_seq, seq = index + 1, row.seq
        if seq != expected_seq:
            return ChainCheck(False, f"expected event {expected_seq}, found event {seq}", seq)
        if row.previous_hash != previous:
            return ChainCheck(False, f"event {seq} does not follow event {seq - 1}", seq)
        if not row.key_id:
            return ChainCheck(False, f"event {seq} carries no chain key: recorded before the chain was keyed", seq)
        key = keys.get(row.key_id)
        if key is None:
            return ChainCheck(False, f"event {seq} names chain key {row.key_id!r}, which is not in the key ring", seq)
        if not hmac.compare_digest(mac(key, index), row.hash):
            return ChainCheck(False, f"event {seq} was altered after it was recorded", seq)
        previous = row.hash
    return ChainCheck(True)


@dataclass(frozen=True)
class AuditRecord:
    referral_id: str
    events: list[ChainedEvent]
    last_seq: int | None

    def verify(self, keys: Mapping[str, bytes]) -> ChainCheck:
        check = verify_chain(self.referral_id, self.events, keys)
        # last_seq is read before the rows, so rows from a batch landing in between may exceed it; fewer rows
        # than last_seq can only mean rows were removed from the end.
        if check.valid and self.last_seq is not None and len(self.events) < self.last_seq:
            recorded = len(self.events)
            return ChainCheck(False, f"{self.last_seq} events were recorded, {recorded} remain", recorded + 1)
        return check
