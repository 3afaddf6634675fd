"""Proofs of the acting person, as pure functions: exactly the right request passes, anything else says why not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peer_review.domain.models import Decision, ReviewerAssignment
from peer_review.domain.proofs import (
    MAX_ATTRIBUTION,
    SIGNAL_LIFETIME,
    UPDATE_LIFETIME,
    Claim,
    NonceMemory,
    Proof,
    ProofProblem,
    Via,
    os_user_name,
    payload_digest,
    refusal,
    sign,
)
from tests.helpers import PROPERTY

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
KEYS = {"operator-k1": b"o" * 32, "api-k2": b"a" * 32}
WORKFLOW = "peer-review-PR-1"
PAYLOAD = [Decision(actor="S100", rationale="Appropriate")]


def proof(
    *,
    via: Via = Via.OPERATOR,
    key_id: str = "operator-k1",
    payload: list[Any] = PAYLOAD,
    lifetime: timedelta = UPDATE_LIFETIME,
    **claim: Any,
) -> Proof:
    values: dict[str, Any] = {
        "workflow_id": WORKFLOW,
        "action": "approve",
        "actor": "S100",
        "via": via,
        "nonce": "ab" * 16,
        "issued_at": NOW,
        "lifetime": lifetime,
        "operator": "alice" if via is Via.OPERATOR else None,
        **claim,
    }
    return sign(Claim(**values), payload_digest(payload), key_id, KEYS[key_id])


def check(made: Proof, *, action: str = "approve", args: list[Any] = PAYLOAD, **given: Any) -> ProofProblem | None:
    found = refusal(
        made,
        keys=given.get("keys", KEYS),
        workflow_id=given.get("workflow_id", WORKFLOW),
        action=action,
        args=args,
        now=given.get("now", NOW + timedelta(seconds=1)),
        nonces=given.get("nonces", NonceMemory()),
    )
    return found.problem if found else None


def test_the_right_request_passes() -> None:
    assert check(proof()) is None
    assert check(proof(via=Via.API, key_id="api-k2")) is None


def spent() -> NonceMemory:
    memory = NonceMemory()
    memory.remember(proof(), NOW)
    return memory


CASES: dict[str, tuple[Proof, dict[str, Any], ProofProblem]] = {
    "another review": (proof(), {"workflow_id": "peer-review-PR-2"}, ProofProblem.OTHER_REVIEW),
    "another action": (proof(), {"action": "decline"}, ProofProblem.OTHER_ACTION),
    "another payload": (proof(), {"args": [Decision(actor="S100", rationale="x")]}, ProofProblem.BAD_SIGNATURE),
    "another person": (proof(), {"args": [Decision(actor="S101", rationale="Appropriate")]}, ProofProblem.OTHER_ACTOR),
    "expired": (proof(), {"now": NOW + UPDATE_LIFETIME + timedelta(seconds=1)}, ProofProblem.EXPIRED),
    "from the future": (proof(), {"now": NOW - timedelta(minutes=5)}, ProofProblem.NOT_YET_VALID),
    "too long-lived": (proof(lifetime=SIGNAL_LIFETIME * 2), {}, ProofProblem.TOO_LONG_LIVED),
    "replayed": (proof(), {"nonces": spent()}, ProofProblem.REPLAYED),
    "unknown key": (proof(), {"keys": {"api-k2": KEYS["api-k2"]}}, ProofProblem.UNKNOWN_KEY),
    "operator key claims the API": (proof(via=Via.API, key_id="operator-k1"), {}, ProofProblem.WRONG_ISSUER),
    "API key claims an operator": (proof(key_id="api-k2"), {}, ProofProblem.WRONG_ISSUER),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_wrong_request_is_refused_with_its_reason(case: str) -> None:
    made, given, problem = CASES[case]
    assert check(made, **given) is problem


def test_an_edited_proof_fails_its_signature() -> None:
    made = proof()
    for change in ({"actor": "S101"}, {"operator": "mallory"}, {"expires_at": made.expires_at + 3600}):
        edited = made.model_copy(update=change)
        args = [Decision(actor=edited.actor, rationale="Appropriate")]
        assert check(edited, args=args) is ProofProblem.BAD_SIGNATURE


@PROPERTY
@given(
    rationale=st.text(st.characters(categories=["L", "N", "P", "Zs", "So"]), min_size=1, max_size=50)
    .map(str.strip)
    .filter(bool),
    reviewer=st.from_regex(r"S[0-9]{3}", fullmatch=True),
)
def test_the_digest_is_the_same_after_a_round_trip(rationale: str, reviewer: str) -> None:
    """What the client signs is what the worker checks: a payload decoded from JSON digests the same."""
    for payload in (Decision(actor="S100", rationale=rationale), ReviewerAssignment(actor="S100", reviewer=reviewer)):
        again = type(payload).model_validate_json(payload.model_dump_json())
        assert payload_digest([again]) == payload_digest([payload])


def test_nonces_are_forgotten_once_their_proof_has_expired() -> None:
    memory = NonceMemory()
    memory.remember(proof(), NOW)
    assert memory.seen("ab" * 16)
    memory.remember(proof(nonce="cd" * 16), NOW + UPDATE_LIFETIME + timedelta(minutes=1))
    assert not memory.seen("ab" * 16) and memory.seen("cd" * 16)


@pytest.mark.parametrize(
    ("made", "said"),
    [
        (proof(), "operator alice for S100"),
        (proof(via=Via.API, key_id="api-k2"), "API sign-in of S100"),
        (proof(via=Via.API, key_id="api-k2", integration="I900"), "integration I900 for S100"),
    ],
)
def test_the_record_says_how_the_person_was_proven(made: Proof, said: str) -> None:
    assert made.attribution() == said and len(said) <= MAX_ATTRIBUTION


def test_os_user_names_are_made_safe_to_record() -> None:
    assert os_user_name("alice") == "alice"
    assert os_user_name("DOMAIN\\bob smith") == "DOMAIN_bob_smith"
    assert len(os_user_name("x" * 300)) == 64
