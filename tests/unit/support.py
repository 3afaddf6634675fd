"""Shared builders and hypothesis settings for the pure domain tests (no Temporal, no I/O)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings

from peer_review.domain.models import Findings, Reason, Referral, ReviewContacts
from tests.helpers import example

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

CHAIR, DEPUTY, FOCAL, REFERRER, REVIEWER, SAME_SITE_REVIEWER = (
    "S100",
    "S101",
    "S200",
    "S300",
    "S400",
    "S301",
)


def referral_data(kind: str = "persistent", **changes: Any) -> dict[str, Any]:
    """The JSON of an example referral, with some fields replaced."""
    data = example(f"referral-{kind}.json")
    data.update(changes)
    return data


def make_referral(kind: str = "persistent", **changes: Any) -> Referral:
    return Referral.model_validate(referral_data(kind, **changes))


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
    data = example(name)
    data.update(changes)
    return data


def make_findings(name: str = "findings.json", **changes: Any) -> Findings:
    return Findings.model_validate(findings_data(name, **changes))


def example_contacts(*, referrer_known: bool = True) -> ReviewContacts:
    """Who may act on a north-east review in examples/directory.yaml."""
    return ReviewContacts(referrer_known=referrer_known, chair=CHAIR, deputies=[DEPUTY], focal_points=[FOCAL])
