"""Proof of the acting person: a short-lived statement, signed with HMAC-SHA-256, that one member of staff takes
one action, with one payload, on one review. Pure (hashing only); peer_review.temporal.proofs signs proofs in
clients and carries them in a Temporal header, peer_review.temporal.proof_checks checks them in the worker.

A proof names who acts (`actor`, who must be the payload's actor) and how that was established (`via`): `api`,
the HTTP API verified the person's token; `operator`, operator tooling holding a signing key, run by the OS user
`operator`. With `integration`, a system in the directory refers on behalf of `actor`. It is bound to the workflow
id, the action (the update or signal name, or START) and a SHA-256 digest of the payload, and it is short-lived
and single-use: a random `nonce` that the review remembers until the proof expires.

The signing key's id names its issuer (`api-…`, `operator-…`): a proof that claims to come from the API must be
signed with an API key, so the holder of an operator key cannot pass off an action as a signed-in person's own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import StringConstraints, model_validator
from pydantic_core import to_jsonable_python

from peer_review.domain.models import Contract, Identifier

# The action a proof of a start names: never an update or signal name (those are Python identifiers).
START = "@start"
# How long a proof may be used. Updates are checked while the caller waits; a start against the server's own
# start time; a signal when a worker takes it up, which may be a while after it was sent if no worker was running.
UPDATE_LIFETIME = timedelta(minutes=5)
SIGNAL_LIFETIME = timedelta(hours=1)
MAX_LIFETIME = SIGNAL_LIFETIME
# Clocks of the signing host and the worker may differ by this much.
CLOCK_LEEWAY = timedelta(seconds=60)
# "integration <id> for <id>": the longest attribution, and the column that holds it.
MAX_ATTRIBUTION = 160
_OS_USER_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class Via(StrEnum):
    """Who vouches for the acting person; also who issued the signing key (its id starts `operator-` or `api-`)."""

    OPERATOR = "operator"
    API = "api"


class ProofProblem(StrEnum):
    """Why a request's proof was refused (also a metric label: never a name or an id)."""

    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    WRONG_ISSUER = "wrong_issuer"
    OTHER_REVIEW = "other_review"
    OTHER_ACTION = "other_action"
    OTHER_ACTOR = "other_actor"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    TOO_LONG_LIVED = "too_long_lived"
    REPLAYED = "replayed"


@dataclass(frozen=True)
class ProofRefusal:
    problem: ProofProblem
    message: str

    def __str__(self) -> str:
        return f"no valid proof of the acting person: {self.message}"


Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32,64}$")]
KeyId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


class Proof(Contract):
    version: Literal[1] = 1
    workflow_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    action: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    actor: Identifier
    via: Via
    operator: Identifier | None = None
    integration: Identifier | None = None
    nonce: Hex
    issued_at: int
    expires_at: int
    key_id: KeyId
    signature: Hex

    @model_validator(mode="after")
    def _operator_only_for_operators(self) -> Proof:
        if (self.via is Via.OPERATOR) != (self.operator is not None):
            raise ValueError("operator: named exactly when the proof comes from operator tooling")
        return self

    def attribution(self) -> str:
        """How the record names who acted, e.g. "operator alice for S100"."""
        if self.integration:
            return f"integration {self.integration} for {self.actor}"
        if self.via is Via.OPERATOR:
            return f"operator {self.operator} for {self.actor}"
        return f"API sign-in of {self.actor}"


def os_user_name(raw: str) -> str:
    """An OS user name as a proof can carry it: identifier characters only, at most 64."""
    return (_OS_USER_UNSAFE.sub("_", raw) or "unknown")[:64]


def payload_digest(args: Sequence[object]) -> str:
    """SHA-256 of the payload as canonical JSON: the same on the client that signs and in the worker that checks."""
    canonical = json.dumps(to_jsonable_python(list(args)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def actor_of(args: Sequence[object]) -> str | None:
    """The staff id a request names as acting: the `actor` of its (first) payload."""
    actor = getattr(args[0], "actor", None) if args else None
    return actor if isinstance(actor, str) else None


def issuer_of(key_id: str) -> str:
    return key_id.split("-", 1)[0]


def _signature(fields: Mapping[str, object], digest: str, key: bytes) -> str:
    message = json.dumps({**fields, "digest": digest}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _signed_fields(proof: Proof) -> dict[str, object]:
    return proof.model_dump(mode="json", exclude={"signature"})


@dataclass(frozen=True)
class Claim:
    """What a signer states; `sign` adds the key id and signature."""

    workflow_id: str
    action: str
    actor: str
    via: Via
    nonce: str
    issued_at: datetime
    lifetime: timedelta
    operator: str | None = None
    integration: str | None = None


STATED = ("workflow_id", "action", "actor", "via", "operator", "integration", "nonce")


def sign(claim: Claim, digest: str, key_id: str, key: bytes) -> Proof:
    # What the claim states goes into the proof as it is; its times become whole seconds since the epoch.
    stated = {name: getattr(claim, name) for name in STATED}
    unsigned = Proof(
        **stated,
        issued_at=int(claim.issued_at.timestamp()),
        expires_at=int((claim.issued_at + claim.lifetime).timestamp()),
        key_id=key_id,
        signature="0" * 64,
    )
    return unsigned.model_copy(update={"signature": _signature(_signed_fields(unsigned), digest, key)})


@dataclass
class NonceMemory:
    """The nonces of proofs a review has accepted, each kept until its proof expires."""

    expiries: dict[str, int] = field(default_factory=dict)

    def seen(self, nonce: str) -> bool:
        return nonce in self.expiries

    def remember(self, proof: Proof, now: datetime) -> None:
        moment = int(now.timestamp())
        self.expiries = {n: e for n, e in self.expiries.items() if e >= moment}
        self.expiries[proof.nonce] = proof.expires_at


def refusal(
    proof: Proof,
    *,
    keys: Mapping[str, bytes],
    workflow_id: str,
    action: str,
    args: Sequence[object],
    now: datetime,
    nonces: NonceMemory,
) -> ProofRefusal | None:
    """Why `proof` does not prove this request, or None when it does."""
    key = keys.get(proof.key_id)
    if key is None:
        return ProofRefusal(ProofProblem.UNKNOWN_KEY, f"signed with key {proof.key_id}, which the worker lacks")
    if issuer_of(proof.key_id) != proof.via.value:
        return ProofRefusal(ProofProblem.WRONG_ISSUER, f"a {proof.via.value} proof signed with key {proof.key_id}")
    if proof.workflow_id != workflow_id:
        return ProofRefusal(ProofProblem.OTHER_REVIEW, "the proof is for another review")
    if proof.action != action:
        return ProofRefusal(ProofProblem.OTHER_ACTION, f"the proof is for {proof.action}, not {action}")
    if proof.actor != actor_of(args):
        return ProofRefusal(ProofProblem.OTHER_ACTOR, "the proof names someone other than the request's actor")
    expected = _signature(_signed_fields(proof), payload_digest(args), key)
    if not hmac.compare_digest(expected, proof.signature):
        return ProofRefusal(ProofProblem.BAD_SIGNATURE, "the signature does not match this request")
    moment = now.timestamp()
    if proof.expires_at - proof.issued_at > MAX_LIFETIME.total_seconds():
        return ProofRefusal(ProofProblem.TOO_LONG_LIVED, "the proof is valid for longer than is allowed")
    if moment > proof.expires_at:
        return ProofRefusal(ProofProblem.EXPIRED, "the proof has expired")
    if proof.issued_at > moment + CLOCK_LEEWAY.total_seconds():
        return ProofRefusal(ProofProblem.NOT_YET_VALID, "the proof was issued in the future")
    if nonces.seen(proof.nonce):
        return ProofRefusal(ProofProblem.REPLAYED, "the proof has been used already")
    return None
