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

from peer_review.domain.audit_chain import GENESIS, ChainKey, event_mac
from peer_review.domain.models import AuditEvent, Referral, Status
from peer_review.records.schema import audit_events, referrals
from peer_review.records.store import RecordsStore

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "referral-complex-issue.json"
ROWS_PER_INSERT = 500

_STEPS: tuple[tuple[str, str, Status | None, Status | None, str | None], ...] = (
    ("system", "referred", None, Status.REFERRED, None),
    ("system", "triage", Status.REFERRED, Status.TRIAGE, None),
    ("system", "triaged", Status.TRIAGE, Status.AWAITING_CHAIR_DECISION, "discretionary"),
    ("S300", "withdraw", Status.AWAITING_CHAIR_DECISION, Status.CLOSED, "Resolved locally"),
    ("system", "notification_sent", None, None, "closure notice to S300"),
)
EVENTS_PER_REVIEW = len(_STEPS)


def _events(referral_id: str, closed_at: datetime, key: ChainKey) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    previous = GENESIS
    for seq, (actor, action, from_status, to_status, detail) in enumerate(_STEPS, start=1):
        at = closed_at - timedelta(minutes=len(_STEPS) - seq)
        proven_by = None if actor == "system" else f"operator bench for {actor}"
        event = AuditEvent(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            from_status=from_status,
            to_status=to_status,
            detail=detail,
            proven_by=proven_by,
        )
        digest = event_mac(key.secret, referral_id, event, previous)
        rows.append(
            {
                "referral_id": referral_id,
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "from_status": from_status.value if from_status else None,
                "to_status": to_status.value if to_status else None,
                "detail": detail,
                "proven_by": proven_by,
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
