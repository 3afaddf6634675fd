"""The CPU cost of proofs of the acting person, per review, against the CPU a whole review costs.

A review on the standard path sends five proven messages (the start, then approve, assign_reviewer,
submit_findings, sign_off). Each one costs the client a proof (canonical JSON digest of the payload, HMAC, the
header converted and sealed by the codec) and the worker a check (the header opened and parsed, the digest and
HMAC recomputed). This times exactly those steps, with the project's own code and the example payloads, in this
process's CPU time, and divides by the measured CPU per review of the lifecycle run (all processes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from benchmarks.drivers import example, standard_referral
from peer_review.domain.models import Decision, Findings, FindingsSubmission, ReviewerAssignment, ReviewInput
from peer_review.domain.proofs import START, UPDATE_LIFETIME, NonceMemory, Proof, refusal
from peer_review.settings import Settings
from peer_review.temporal.codec import EncryptionCodec, KeyRing
from peer_review.temporal.converter import data_converter
from peer_review.temporal.key_rings import load_signing_ring
from peer_review.temporal.proofs import ProofSigner, proof_header

ROUNDS = 300


@dataclass(frozen=True)
class ProofCost:
    messages_per_review: int
    sign_us: float
    check_us: float
    per_review_ms: float
    review_cpu_ms: float
    share: float


def _messages(settings: Settings) -> list[tuple[str, object]]:
    findings = Findings.model_validate(example("findings.json"))
    return [
        (START, ReviewInput(referral=standard_referral("BENCH-PROOFS"), policy=settings.policy)),
        ("approve", Decision(actor="S100", rationale="Several issues to check")),
        ("assign_reviewer", ReviewerAssignment(actor="S100", reviewer="S400")),
        ("submit_findings", FindingsSubmission(actor="S400", findings=findings)),
        ("sign_off", Decision(actor="S100")),
    ]


async def measure_proof_cost(settings: Settings, review_cpu_ms: float, rounds: int = ROUNDS) -> ProofCost:
    """Sign and check a standard review's messages `rounds` times; `review_cpu_ms` is the CPU of a whole review."""
    codec = EncryptionCodec(KeyRing.load(settings.key_file))
    converter = data_converter(codec).payload_converter
    signer = ProofSigner.for_operator(settings)
    keys = dict(load_signing_ring(settings).keys)
    messages = _messages(settings)
    workflow_id = "peer-review-BENCH-PROOFS"
    signing = checking = 0.0
    for _ in range(rounds):
        for action, payload in messages:
            started = time.process_time()
            proof = await signer.proof(workflow_id, action, [payload], UPDATE_LIFETIME)
            [sealed] = await codec.encode([proof_header(proof)])
            signing += time.process_time() - started
            started = time.process_time()
            [opened] = await codec.decode([sealed])
            parsed = converter.from_payload(opened, Proof)
            problem = refusal(
                parsed,
                keys=keys,
                workflow_id=workflow_id,
                action=action,
                args=[payload],
                now=datetime.now(UTC),
                nonces=NonceMemory(),
            )
            checking += time.process_time() - started
            assert problem is None, problem
    count = rounds * len(messages)
    per_review_ms = 1000 * (signing + checking) / rounds
    return ProofCost(
        messages_per_review=len(messages),
        sign_us=1e6 * signing / count,
        check_us=1e6 * checking / count,
        per_review_ms=per_review_ms,
        review_cpu_ms=review_cpu_ms,
        share=per_review_ms / review_cpu_ms if review_cpu_ms else float("nan"),
    )
