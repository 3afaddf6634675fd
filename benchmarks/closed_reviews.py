"""Closed reviews written straight into a records database, with keyed audit chains that verify: the material for
timing `audit --verify-all` and a retention run over many reviews (and for the crash-mid-disposal fault test),
without running each review through Temporal first.

Each review is a withdrawn referral with the events a real one records (referred, triage, triaged, withdraw and a
notification), sealed with the chain key exactly as the worker seals them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from peer_review.domain.audit_chain import GENESIS, ChainKey, event_mac
from peer_review.domain.models import AuditEvent, Referral, Status
from peer_review.records.schema import audit_events, referrals
from peer_review.records.store import RecordsStore

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "referral-complex-issue.json"
ROWS_PER_INSERT = 500

# The fields of each event but its number and time; `proven_by` as the operator CLI proves a person.
_STEPS: tuple[dict[str, Any], ...] = (
    {"actor": "system", "action": "referred", "from_status": None, "to_status": Status.REFERRED},
    {"actor": "system", "action": "triage", "from_status": Status.REFERRED, "to_status": Status.TRIAGE},
    {
        "actor": "system",
        "action": "triaged",
        "from_status": Status.TRIAGE,
        "to_status": Status.AWAITING_CHAIR_DECISION,
        "detail": "discretionary",
    },
    {
        "actor": "S300",
        "action": "withdraw",
        "from_status": Status.AWAITING_CHAIR_DECISION,
        "to_status": Status.CLOSED,
        "detail": "Resolved locally",
        "proven_by": "operator bench for S300",
    },
    {
        "actor": "system",
        "action": "notification_sent",
        "from_status": None,
        "to_status": None,
        "detail": "closure notice to S300",
    },
)
EVENTS_PER_REVIEW = len(_STEPS)


def _events(referral_id: str, closed_at: datetime, key: ChainKey) -> list[dict[str, object]]:
    """The review's audit rows, one minute apart up to `closed_at`, chained and sealed as the records store does."""
    rows: list[dict[str, object]] = []
    previous = GENESIS
    for seq, step in enumerate(_STEPS, start=1):
        event = AuditEvent(seq=seq, at=closed_at - timedelta(minutes=len(_STEPS) - seq), **step)
        digest = event_mac(key.secret, referral_id, event, previous)
        rows.append(
            {
                "referral_id": referral_id,
                **event.model_dump(mode="python"),
                "previous_hash": previous,
                "hash": digest,
                "key_id": key.id,
            }
        )
        previous = digest
    return rows


def _referral_row(template: dict[str, object], referral_id: str, closed_at: datetime) -> dict[str, object]:
    referral = Referral.model_validate({**template, "referral_id": referral_id, "case_reference": f"C-{referral_id}"})
    return {
        "referral_id": referral_id,
        "case_reference": referral.case_reference,
        "customer_reference": referral.customer.reference,
        "referred_by": referral.referred_by,
        "osn": referral.osn,
        "site": referral.site,
        "referral_level": referral.referral_level.value,
        "reasons": ",".join(reason.value for reason in referral.reasons),
        "mandatory": False,
        "priority": None,
        "status": Status.CLOSED.value,
        "outcome": "withdrawn",
        "chair": "S100",
        "reviewer": None,
        "overdue": False,
        "referral_json": referral.model_dump_json(),
        "findings_json": None,
        "policy_json": None,
        "held": False,
        "last_seq": EVENTS_PER_REVIEW,
        "created_at": closed_at - timedelta(minutes=EVENTS_PER_REVIEW),
        "updated_at": closed_at,
    }


async def write_closed_reviews(
    store: RecordsStore, count: int, *, closed_at: datetime, key: ChainKey, prefix: str = "RET"
) -> list[str]:
    """Write `count` reviews closed at `closed_at` (one second apart, oldest first); returns their ids."""
    template = json.loads(EXAMPLE.read_text())
    ids = [f"{prefix}-{number:07d}" for number in range(count)]
    for start in range(0, count, ROWS_PER_INSERT):
        chunk = ids[start : start + ROWS_PER_INSERT]
        moments = [closed_at + timedelta(seconds=start + offset) for offset in range(len(chunk))]
        async with store.transaction() as connection:
            await connection.execute(
                referrals.insert(), [_referral_row(template, ref, at) for ref, at in zip(chunk, moments, strict=True)]
            )
            await connection.execute(
                audit_events.insert(),
                [row for ref, at in zip(chunk, moments, strict=True) for row in _events(ref, at, key)],
            )
    return ids
