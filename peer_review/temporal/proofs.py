"""Signing proofs of the acting person, and attaching them to every start, update and signal a client sends.

One client interceptor (ProofAttacher) adds the `peer-review-proof` header to each message, whatever its name: the
actor is the payload's own `actor`, the proof is bound to that workflow id, message name and payload. The header
is sealed by the codec like any payload (header codec behaviour CODEC). The worker checks it in
peer_review.temporal.proof_checks.

Who signs: operator tooling (the `peer-review` command) with the newest `operator-` key of the signing key ring,
naming the OS user; the HTTP API with the newest `api-` key, after verifying the person's token.
"""

from __future__ import annotations

import contextlib
import getpass
import secrets
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)
from temporalio.common import HeaderCodecBehavior
from temporalio.contrib.pydantic import pydantic_data_converter

from peer_review.domain.proofs import (
    SIGNAL_LIFETIME,
    START,
    UPDATE_LIFETIME,
    Claim,
    Proof,
    Via,
    actor_of,
    os_user_name,
    payload_digest,
    sign,
)
from peer_review.settings import Settings
from peer_review.temporal.codec import KeyRing
from peer_review.temporal.key_rings import load_signing_ring

PROOF_HEADER = "peer-review-proof"

Clock = Callable[[], Awaitable[datetime]]


class ProofRefused(Exception):
    """This signer will not prove the request (it names someone the signer may not speak for)."""


# Set around a start made by an integration on behalf of the referrer it names.
_INTEGRATION: ContextVar[str | None] = ContextVar("peer_review_integration", default=None)


async def _wall_clock() -> datetime:
    return datetime.now(UTC)


class ProofSigner:
    """Makes proofs with one key of the signing key ring. `clock` is the time proofs are issued at (tests on the
    time-skipping server pass its clock, which runs ahead of the wall clock)."""

    def __init__(
        self,
        ring: KeyRing,
        via: Via,
        *,
        operator: str | None = None,
        clock: Clock = _wall_clock,
        bound_to: str | None = None,
    ) -> None:
        self.ring = ring
        self.key_id = ring.newest_with(f"{via.value}-")
        self._key = ring.keys[self.key_id]
        self.via = via
        self.operator = operator
        self.clock = clock
        self.bound_to = bound_to

    def bound(self, staff_id: str) -> ProofSigner:
        """A signer that proves only `staff_id`: as the actor, or as the integration referring on the actor's behalf."""
        return ProofSigner(self.ring, self.via, operator=self.operator, clock=self.clock, bound_to=staff_id)

    @classmethod
    def for_operator(cls, settings: Settings, *, clock: Clock = _wall_clock) -> ProofSigner:
        """Operator tooling: the record says "operator <OS user> for <staff id>"."""
        return cls(load_signing_ring(settings), Via.OPERATOR, operator=os_user_name(getpass.getuser()), clock=clock)

    @classmethod
    def for_api(cls, settings: Settings) -> ProofSigner:
        """The HTTP API, which signs only for the person its verified token names."""
        return cls(load_signing_ring(settings), Via.API)

    async def proof(self, workflow_id: str, action: str, args: Sequence[object], lifetime: timedelta) -> Proof:
        actor = actor_of(args)
        if actor is None:
            raise ProofRefused(f"{action}: the payload names no actor, so there is nobody to prove")
        integration = _INTEGRATION.get()
        if self.bound_to is not None and self.bound_to != (integration or actor):
            raise ProofRefused(f"{action}: {self.bound_to} may not act as {actor}")
        claim = Claim(
            workflow_id=workflow_id,
            action=action,
            actor=actor,
            via=self.via,
            operator=self.operator,
            integration=integration,
            nonce=secrets.token_hex(16),
            issued_at=await self.clock(),
            lifetime=lifetime,
        )
        return sign(claim, payload_digest(args), self.key_id, self._key)


@contextlib.contextmanager
def on_behalf_of(integration: str | None) -> Iterator[None]:
    """Starts made inside say that `integration` refers on behalf of the referrer the referral names."""
    token = _INTEGRATION.set(integration)
    try:
        yield
    finally:
        _INTEGRATION.reset(token)


def proof_header(proof: Proof) -> Payload:
    return pydantic_data_converter.payload_converter.to_payload(proof)


class ProofAttacher(Interceptor):
    """Signs every start, update and signal the client sends. `signer` is asked for on first use, so a client that
    only reads never needs a signing key."""

    def __init__(self, signer: Callable[[], ProofSigner]) -> None:
        self.signer = signer

    async def proof(self, workflow_id: str, action: str, args: Sequence[object], lifetime: timedelta) -> Proof | None:
        """The proof sent with this request (None sends the request without one)."""
        return await self.signer().proof(workflow_id, action, args, lifetime)

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Attaching(next, self)


class _Attaching(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, root: ProofAttacher) -> None:
        super().__init__(next)
        self.root = root

    async def _with_proof(
        self, headers: Any, workflow_id: str, action: str, args: Sequence[object], lifetime: timedelta
    ) -> dict[str, Payload]:
        proof = await self.root.proof(workflow_id, action, args, lifetime)
        return {**headers, PROOF_HEADER: proof_header(proof)} if proof else {**headers}

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.headers = await self._with_proof(input.headers, input.id, START, input.args, UPDATE_LIFETIME)
        return await super().start_workflow(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        input.headers = await self._with_proof(input.headers, input.id, input.update, input.args, UPDATE_LIFETIME)
        return await super().start_workflow_update(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        input.headers = await self._with_proof(input.headers, input.id, input.signal, input.args, SIGNAL_LIFETIME)
        await super().signal_workflow(input)


def with_sealed_headers(client: Client, *interceptors: Interceptor) -> Client:
    """The same connection, with headers sealed by the codec and `interceptors` added."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], *interceptors]
    config["header_codec_behavior"] = HeaderCodecBehavior.CODEC
    return Client(**config)
