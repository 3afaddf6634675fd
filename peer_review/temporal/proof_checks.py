"""The worker's one check of proofs of the acting person, for every start, update and signal, by name.

A worker interceptor: nothing in the workflow has to remember to call it, and a handler added later (an update
named `add_reason`, say) is covered as it stands. Without a valid proof:
- an update is refused by its validator (nothing enters history);
- a signal is dropped;
- a start fails the workflow before anything is recorded;
each logged and counted (peer_review_unproven_requests), never written to the review's record. Queries need no
proof: anyone with the codec may read.

Replay safety. The check runs inside the workflow sandbox, so it is deterministic and pure: HMAC-SHA-256 with keys
bound to the interceptor class when the worker is built (the class object crosses into the sandbox as it is, so
the keys never come from I/O inside a workflow); times are compared with workflow.now() for updates and signals
and with the server's start time for a start, both of which replay identically; the nonces a review has accepted
are state of the interceptor instance, rebuilt in the same order whenever history is replayed. Update validators
never run on replay, and the update handler path checks only the nonce, which needs no key. Signals and starts
are checked again on replay, which needs the key that signed them: a signing key leaves the worker's ring only
once no running review has a proof signed with it (as with payload keys).

An accepted proof is available to the workflow through `proven()` while its handler (or the run, for the
start) runs: the record names who acted and how ("operator alice for S100"). Each handler runs in an asyncio task
of its own, with its own copy of the context, so setting the variable there reaches that handler only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from peer_review.domain.proofs import START, NonceMemory, Proof, ProofProblem, ProofRefusal, refusal
from peer_review.temporal.codec import KeyRing
from peer_review.temporal.metrics import Metric
from peer_review.temporal.proofs import PROOF_HEADER

UNPROVEN = "Unproven"
REVIEW_WORKFLOW_PREFIX = "peer-review-"

_PROVEN: ContextVar[Proof | None] = ContextVar("peer_review_proven", default=None)


def proven() -> Proof | None:
    """The proof of the message being handled (set by the worker's interceptor), or None."""
    return _PROVEN.get()


class ProofChecker(Interceptor):
    """Checks proofs with the keys of the signing key ring."""

    def __init__(self, ring: KeyRing) -> None:
        keys = dict(ring.keys)
        self._inbound = type("ProofCheckingInbound", (_ProofCheckingInbound,), {"keys": keys})

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return self._inbound


class _ProofCheckingInbound(WorkflowInboundInterceptor):
    keys: ClassVar[Mapping[str, bytes]] = {}

    def __init__(self, next: WorkflowInboundInterceptor) -> None:
        super().__init__(next)
        self._nonces = NonceMemory()

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        parent = workflow.info().parent
        if parent is not None and parent.workflow_id.startswith(REVIEW_WORKFLOW_PREFIX):
            # Started by a review's own code (a recommendation tracked at sign-off), never by a person or a client:
            # only a workflow can start a child, and only the worker's code runs workflows.
            return await super().execute_workflow(input)
        # The server's start time, not now: a start that waited for a worker is still the start it was.
        found = self._check("start", START, input.headers, input.args, workflow.info().start_time)
        if isinstance(found, ProofRefusal):
            raise ApplicationError(f"the review was not started: {found}", type=UNPROVEN, non_retryable=True)
        self._nonces.remember(found, workflow.info().start_time)
        _PROVEN.set(found)
        return await super().execute_workflow(input)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        found = self._check("update", input.update, input.headers, input.args, workflow.now())
        if isinstance(found, ProofRefusal):
            raise ApplicationError(str(found), type=UNPROVEN, non_retryable=True)
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        # The validator checked the signature before the update was accepted (validators do not run on replay).
        # Two updates with one proof can pass their validators in the same activation: only the first goes on.
        proof = _read(input.headers.get(PROOF_HEADER))
        if isinstance(proof, ProofRefusal) or self._nonces.seen(proof.nonce):
            raise ApplicationError(str(ProofRefusal(ProofProblem.REPLAYED, "proof already used")), type=UNPROVEN)
        self._nonces.remember(proof, workflow.now())
        _PROVEN.set(proof)
        return await super().handle_update_handler(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        found = self._check("signal", input.signal, input.headers, input.args, workflow.now())
        if isinstance(found, ProofRefusal):
            return  # dropped: a signal has no caller to answer; logged and counted in _check
        self._nonces.remember(found, workflow.now())
        _PROVEN.set(found)
        await super().handle_signal(input)

    def _check(
        self, kind: str, action: str, headers: Mapping[str, Payload], args: Sequence[object], now: datetime
    ) -> Proof | ProofRefusal:
        proof = _read(headers.get(PROOF_HEADER))
        found = proof
        if isinstance(proof, Proof):
            problem = refusal(
                proof,
                keys=self.keys,
                workflow_id=workflow.info().workflow_id,
                action=action,
                args=args,
                now=now,
                nonces=self._nonces,
            )
            found = problem or proof
        if isinstance(found, ProofRefusal):
            # Labels and log fields name the message and the problem, never a person.
            workflow.metric_meter().create_counter(Metric.UNPROVEN_REQUESTS).add(
                1, {"message_kind": kind, "problem": found.problem.value}
            )
            workflow.logger.warning(
                "request refused: no valid proof of the acting person",
                extra={"message_kind": kind, "action": action, "problem": found.problem.value},
            )
        return found


def _read(header: Payload | None) -> Proof | ProofRefusal:
    if header is None:
        return ProofRefusal(ProofProblem.MISSING, "the request carries no proof")
    try:
        proof: Proof = workflow.payload_converter().from_payload(header, Proof)
    except Exception:  # an unsealed, unreadable or malformed header proves nothing
        return ProofRefusal(ProofProblem.MALFORMED, "the proof cannot be read")
    return proof
