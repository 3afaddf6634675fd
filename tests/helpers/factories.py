"""Referrals, findings and contacts built from examples/, and the hypothesis settings the property tests share."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from peer_review.domain.lifecycle import stage_of
from peer_review.domain.models import (
    AuditEvent,
    Findings,
    NotificationRequest,
    Reason,
    RecordBatch,
    Referral,
    ReviewContacts,
    Status,
    StatusView,
)
from tests.helpers.staff import CHAIR, DEPUTY, FOCAL

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TEST_KEY_FILE = ROOT / "tests" / "keys" / "keyring.json"

# Deterministic and modest: the same examples on every run, no example database left on disk.
PROPERTY = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

REFERRAL_EXAMPLES = [
    "referral-additional-needs.json",
    "referral-complex-issue.json",
    "referral-other.json",
    "referral-persistent.json",
    "referral-suicide.json",
]
FINDINGS_EXAMPLES = ["findings.json", "findings-contentious.json"]


def example(name: str) -> dict[str, Any]:
    """One file of examples/, parsed."""
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def referral_data(kind: str = "persistent", **changes: Any) -> dict[str, Any]:
    """The JSON of an example referral, with some fields replaced."""
    return {**example(f"referral-{kind}.json"), **changes}


def make_referral(kind: str = "persistent", **changes: Any) -> Referral:
    """An example referral as it is on file (its own id), for the pure tests."""
    return Referral.model_validate(referral_data(kind, **changes))


def referral(kind: str = "persistent", **changes: Any) -> Referral:
    """An example referral with a fresh id, so tests never collide on one server."""
    return make_referral(kind, **{"referral_id": f"T-{uuid.uuid4().hex[:12]}", **changes})


def referral_with_reasons(
    reasons: list[Reason], *, additional_needs: bool = False, complaint_made: bool = True
) -> Referral:
    """A valid referral for any non-empty set of reasons (other_reason exactly with 'other')."""
    data = referral_data(
        reasons=[r.value for r in reasons],
        other_reason="Media interest" if Reason.OTHER in reasons else None,
        complaint_made=complaint_made,
    )
    data["customer"] = {**data["customer"], "additional_needs": additional_needs}
    return Referral.model_validate(data)


def findings_data(name: str = "findings.json", **changes: Any) -> dict[str, Any]:
    return {**example(name), **changes}


def make_findings(name: str = "findings.json", **changes: Any) -> Findings:
    return Findings.model_validate(findings_data(name, **changes))


def findings(**changes: Any) -> Findings:
    """examples/findings.json with some fields replaced."""
    return make_findings(**changes)


def recorded_awaiting_chair(referral_id: str, osn: str = "north-east") -> RecordBatch:
    """The first record batch of a complex-issue review now awaiting its Chair's decision."""
    case = referral("complex-issue", referral_id=referral_id, osn=osn)
    view = StatusView(
        referral_id=referral_id,
        status=Status.AWAITING_CHAIR_DECISION,
        stage=stage_of(Status.AWAITING_CHAIR_DECISION),
        outcome=None,
        mandatory=False,
        osn=case.osn,
        priority=None,
        chair=CHAIR,
        reviewer=None,
        reasons=case.reasons,
        referred_by=case.referred_by,
    )
    moved = AuditEvent(
        seq=1,
        at=datetime.now(UTC),
        actor="system",
        action="triaged",
        from_status=Status.TRIAGE,
        to_status=Status.AWAITING_CHAIR_DECISION,
    )
    return RecordBatch(referral=case, view=view, events=[moved])


def queued_message(seq: int, step: str, recipient: str, referral_id: str = "PR-2026-0001") -> NotificationRequest:
    """A message as the workflow queues it: its audit event's `seq`, keyed as RecordKeeper.notify keys it."""
    return NotificationRequest(
        idempotency_key=f"{referral_id}.{seq}.{step}.{recipient}",
        referral_id=referral_id,
        recipient=recipient,
        step=step,
        seq=seq,
    )


def example_contacts(*, referrer_known: bool = True) -> ReviewContacts:
    """Who may act on a north-east review in examples/directory.yaml."""
    return ReviewContacts(referrer_known=referrer_known, chair=CHAIR, deputies=[DEPUTY], focal_points=[FOCAL])
