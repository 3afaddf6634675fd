"""No valid input can exceed a column: the largest value the service can write fits each one it is written to.

SQLite ignores VARCHAR lengths and PostgreSQL enforces them, so a value one character too long passes every
SQLite test and then fails a batch on every retry in production. These checks walk the contracts instead.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import String, Table

from peer_review.domain.lifecycle import audit_actions
from peer_review.domain.models import MAX_SHORT_TEXT, Outcome, Priority, Reason, ReferralLevel, Status
from peer_review.domain.notices import Step
from peer_review.domain.proofs import START, Claim, Via, sign
from peer_review.records.schema import access_log, audit_events, notifications, recommendations, referrals
from peer_review.temporal.codec import KEY_ID_PATTERN

LONGEST_ID = "X" * 64


def width(table: Table, column: str) -> int:
    kind = table.c[column].type
    assert isinstance(kind, String) and kind.length, f"{table.name}.{column} is not a bounded string"
    return kind.length


def test_every_audit_action_fits() -> None:
    longest = max(audit_actions(), key=len)
    assert len(longest) <= width(audit_events, "action"), longest


@pytest.mark.parametrize("via", list(Via))
@pytest.mark.parametrize("integration", [None, LONGEST_ID])
def test_the_longest_attribution_fits(via: Via, integration: str | None) -> None:
    claim = Claim(
        workflow_id="peer-review-" + LONGEST_ID,
        action=START,
        actor=LONGEST_ID,
        via=via,
        nonce="0" * 32,
        issued_at=datetime.now(UTC),
        lifetime=timedelta(minutes=5),
        operator=LONGEST_ID if via is Via.OPERATOR else None,
        integration=integration,
    )
    proof = sign(claim, "0" * 64, "operator-" + "k" * 55, b"k" * 32)
    attribution = proof.attribution()
    assert len(attribution) <= width(audit_events, "proven_by") == width(access_log, "proven_by")


def test_identifiers_statuses_and_enumerations_fit() -> None:
    for table, column in [
        (referrals, "referral_id"),
        (referrals, "case_reference"),
        (referrals, "referred_by"),
        (referrals, "osn"),
        (referrals, "chair"),
        (referrals, "reviewer"),
        (audit_events, "referral_id"),
        (audit_events, "actor"),
        (notifications, "recipient"),
        (access_log, "reader"),
        (access_log, "referral_id"),
    ]:
        assert width(table, column) >= len(LONGEST_ID), (table.name, column)
    longest_status = max((s.value for s in Status), key=len)
    for table, column in [(referrals, "status"), (audit_events, "from_status"), (audit_events, "to_status")]:
        assert width(table, column) >= len(longest_status)
    assert width(referrals, "outcome") >= max(len(o.value) for o in Outcome)
    assert width(referrals, "priority") >= max(len(p.value) for p in Priority)
    assert width(referrals, "referral_level") >= max(len(level.value) for level in ReferralLevel)
    assert width(referrals, "reasons") >= len(",".join(r.value for r in Reason))
    assert width(referrals, "site") >= MAX_SHORT_TEXT
    assert width(recommendations, "owner") >= MAX_SHORT_TEXT
    assert width(notifications, "step") >= max(len(s.value) for s in Step)
    assert width(access_log, "what") >= len("recommendations")


def test_key_ids_and_notification_keys_fit() -> None:
    assert width(audit_events, "key_id") >= 64 and KEY_ID_PATTERN.pattern.endswith("{1,64}")
    # The workflow's idempotency key: "<referral id>.<event count>.<step>.<recipient>".
    longest_step = max((s.value for s in Step), key=len)
    key = f"{LONGEST_ID}.{10**7}.{longest_step}.{LONGEST_ID}"
    assert len(key) <= width(notifications, "idempotency_key")
