"""The retention register: legal holds, their releases and disposal certificates, in one keyed chain. Pure.

Each entry carries an HMAC-SHA-256, under the audit chain's key ring, over itself and the MAC of the entry before
it, exactly as a review's audit events do (peer_review.domain.audit_chain). The register outlives the records it
describes: once a review is disposed of, its certificate is what remains, and `audit --verify` checks it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from peer_review.domain.audit_chain import ChainCheck, Link, verify_links


class EntryKind(StrEnum):
    HOLD = "hold"
    RELEASE = "release"
    DISPOSAL = "disposal"


@dataclass(frozen=True)
class RegisterEntry:
    seq: int
    at: datetime
    kind: EntryKind
    referral_id: str
    actor: str
    # A hold's or release's reason; a disposal certificate's contents (see certificate()).
    document: dict[str, Any]


@dataclass(frozen=True)
class SealedEntry:
    entry: RegisterEntry
    previous_hash: str
    hash: str
    key_id: str


def canonical(entry: RegisterEntry, previous_hash: str) -> bytes:
    document = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "kind": entry.kind.value,
        "referral_id": entry.referral_id,
        "actor": entry.actor,
        "document": entry.document,
        "previous_hash": previous_hash,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_mac(key: bytes, entry: RegisterEntry, previous_hash: str) -> str:
    return hmac.new(key, canonical(entry, previous_hash), hashlib.sha256).hexdigest()


def verify_register(rows: list[SealedEntry], keys: Mapping[str, bytes]) -> ChainCheck:
    links = [Link(row.entry.seq, row.previous_hash, row.hash, row.key_id) for row in rows]
    return verify_links(links, keys, lambda key, index: entry_mac(key, rows[index].entry, rows[index].previous_hash))


@dataclass(frozen=True)
class Destroyed:
    """How many rows of each kind a disposal destroyed."""

    referral: int
    findings: int
    audit_events: int
    recommendations: int
    notifications: int
    access_log: int


@dataclass(frozen=True)
class DisposedReview:
    """What a certificate says of the review it replaces: no names, no case details."""

    referral_id: str
    reasons: list[str]
    osn: str
    referral_level: str
    mandatory: bool | None
    outcome: str | None
    referred_at: datetime
    closed_at: datetime
    last_event_seq: int
    last_event_hash: str
    last_event_key_id: str
    chain_valid: bool


def certificate(review: DisposedReview, destroyed: Destroyed, run: str) -> dict[str, Any]:
    """The certificate's contents; the register entry adds who disposed of it (`run`), when, and the chain's MAC."""
    return {
        "referral_id": review.referral_id,
        "reasons": review.reasons,
        "osn": review.osn,
        "referral_level": review.referral_level,
        "mandatory": review.mandatory,
        "outcome": review.outcome,
        "referred_at": review.referred_at.isoformat(),
        "closed_at": review.closed_at.isoformat(),
        "destroyed": asdict(destroyed),
        # The keyed MAC of the review's last audit event: whoever holds a copy of the record (a backup, an export)
        # can show it is the record this certificate replaced.
        "last_event": {
            "seq": review.last_event_seq,
            "hash": review.last_event_hash,
            "key_id": review.last_event_key_id,
        },
        "chain_valid_at_disposal": review.chain_valid,
        "run": run,
    }
