"""Proof of the acting person, checked by the real worker: without a valid proof nothing changes.

Each bad proof is made with the test signing keys and sent by a raw Temporal client that has the codec (so only
the proof is wrong): expired, used twice, for another review, for another action, for another payload, signed
with a key the worker lacks, or claiming the API with an operator key.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import ChairDecision, Decision, ReviewInput, Status, StatusView
from peer_review.domain.proofs import START, UPDATE_LIFETIME, Claim, Proof, Via, payload_digest, sign
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient, workflow_id
from peer_review.temporal.key_rings import load_signing_ring
from peer_review.temporal.proofs import ProofAttacher, ProofSigner, with_sealed_headers
from tests.helpers import new_worker, refer_triaged, referral, triaged
from tests.helpers.staff import CASEWORKER, CHAIR


class FixedProof(ProofAttacher):
    """Sends whatever proof the test puts in `next_proof` (or none), instead of signing."""

    def __init__(self) -> None:
        super().__init__(signer=self._never)
        self.next_proof: Proof | None = None

    def _never(self) -> ProofSigner:
        raise AssertionError("this client never signs")

    async def proof(self, workflow_id: str, action: str, args: Sequence[object], lifetime: timedelta) -> Proof | None:
        return self.next_proof


def make_proof(
    settings: Settings,
    referral_id: str,
    action: str,
    args: Sequence[object],
    *,
    via: Via = Via.OPERATOR,
    key_prefix: str | None = None,
    issued_at: datetime | None = None,
    lifetime: timedelta = UPDATE_LIFETIME,
    key: tuple[str, bytes] | None = None,
) -> Proof:
    ring = load_signing_ring(settings)
    key_id = ring.newest_with(key_prefix or f"{via.value}-")
    key_id, secret = key or (key_id, ring.keys[key_id])
    actor = getattr(args[0], "actor")  # noqa: B009 - every payload names its actor
    claim = Claim(
        workflow_id=workflow_id(referral_id),
        action=action,
        actor=actor,
        via=via,
        operator="tester" if via is Via.OPERATOR else None,
        nonce=uuid.uuid4().hex,
        issued_at=issued_at or datetime.now(UTC),
        lifetime=lifetime,
    )
    return sign(claim, payload_digest(args), key_id, secret)


@pytest.fixture
async def raw(client: Client) -> AsyncIterator[tuple[Client, FixedProof]]:
    fixed = FixedProof()
    yield with_sealed_headers(client, fixed), fixed


async def update(raw_client: Client, referral_id: str, name: str, payload: object) -> StatusView:
    handle = raw_client.get_workflow_handle(workflow_id(referral_id))
    view: StatusView = await handle.execute_update(name, payload, id=str(uuid.uuid4()), result_type=StatusView)
    return view


async def refused(raw_client: Client, referral_id: str, name: str, payload: object) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await update(raw_client, referral_id, name, payload)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_every_bad_proof_is_refused_and_changes_nothing(
    client: Client, settings: Settings, store: RecordsStore, raw: tuple[Client, FixedProof]
) -> None:
    raw_client, fixed = raw
    reviews = PeerReviewClient(client, settings)
    approve = Decision(actor=CHAIR, rationale="Appropriate")
    async with new_worker(client, settings, store):
        r, other = referral("persistent"), referral("persistent")
        for each in (r, other):
            await reviews.refer(each)
            await triaged(reviews, each.referral_id)
        before = await reviews.status(r.referral_id)
        trail_before = await reviews.audit_trail(r.referral_id)
        long_ago = datetime.now(UTC) - timedelta(minutes=30)
        other_ring_key = ("operator-k9-elsewhere", b"z" * 32)
        bad: dict[str, tuple[Proof | None, str]] = {
            "no proof": (None, "carries no proof"),
            "expired": (make_proof(settings, r.referral_id, "approve", [approve], issued_at=long_ago), "expired"),
            "another review": (make_proof(settings, other.referral_id, "approve", [approve]), "another review"),
            "another action": (make_proof(settings, r.referral_id, "decline", [approve]), "is for decline"),
            "another payload": (
                make_proof(settings, r.referral_id, "approve", [Decision(actor=CHAIR, rationale="Other text")]),
                "does not match",
            ),
            "another person": (
                make_proof(settings, r.referral_id, "approve", [Decision(actor=CASEWORKER, rationale="x")]),
                "someone other",
            ),
            "key the worker lacks": (
                make_proof(settings, r.referral_id, "approve", [approve], key=other_ring_key),
                "lacks",
            ),
            "operator key claiming the API": (
                make_proof(settings, r.referral_id, "approve", [approve], via=Via.API, key_prefix="operator-"),
                "api proof signed with key operator-",
            ),
            "valid for too long": (
                make_proof(settings, r.referral_id, "approve", [approve], lifetime=timedelta(days=2)),
                "longer than",
            ),
            "from the future": (
                make_proof(
                    settings, r.referral_id, "approve", [approve], issued_at=datetime.now(UTC) + timedelta(hours=1)
                ),
                "in the future",
            ),
        }
        for case, (proof, reason) in bad.items():
            fixed.next_proof = proof
            error = await refused(raw_client, r.referral_id, "approve", approve)
            assert error.type == "Unproven", case
            assert reason in error.message, (case, error.message)
        # Nothing changed and nothing was written: unproven requests never reach the record.
        assert await reviews.status(r.referral_id) == before
        assert await reviews.audit_trail(r.referral_id) == trail_before
        # The same proof, sound, is accepted once ...
        proof = make_proof(settings, r.referral_id, "approve", [approve])
        fixed.next_proof = proof
        view = await update(raw_client, r.referral_id, "approve", approve)
        assert view.status is Status.AWAITING_REVIEWER
        # ... and never again.
        error = await refused(raw_client, r.referral_id, "approve", approve)
        assert error.type == "Unproven" and "used already" in error.message
        decisions = [e for e in await reviews.audit_trail(r.referral_id) if not e.action.startswith("notification")]
        assert decisions[-1].action == "approve" and decisions[-1].proven_by == f"operator tester for {CHAIR}"


async def test_a_replayed_signal_proof_is_dropped(
    client: Client, settings: Settings, store: RecordsStore, raw: tuple[Client, FixedProof]
) -> None:
    raw_client, fixed = raw
    reviews = PeerReviewClient(client, settings)
    async with new_worker(client, settings, store):
        ref = await refer_triaged(reviews, "persistent")
        # A caseworker may not decide: the first signal is refused and recorded, its replay only dropped.
        decision = ChairDecision(actor=CASEWORKER, decision="approve")
        fixed.next_proof = make_proof(settings, ref, "chair_decision", [decision])
        handle = raw_client.get_workflow_handle(workflow_id(ref))
        await handle.signal("chair_decision", decision)
        await handle.signal("chair_decision", decision)
        fixed.next_proof = None
        await handle.signal("chair_decision", ChairDecision(actor=CHAIR, decision="approve"))  # no proof: dropped
        # A proven Chair's decision after them shows all three were handled in order.
        await reviews.signal_chair_decision(ref, ChairDecision(actor=CHAIR, decision="decline", rationale="x"))
        await handle.result()
        trail = await reviews.audit_trail(ref)
        refusals = [e for e in trail if e.action == "approve_rejected"]
        assert len(refusals) == 1 and refusals[0].actor == CASEWORKER
        assert refusals[0].proven_by == f"operator tester for {CASEWORKER}"
        assert [e.action for e in trail if e.to_status is Status.CLOSED] == ["decline"]


async def test_a_start_without_proof_fails_before_anything_is_recorded(
    client: Client, settings: Settings, store: RecordsStore, raw: tuple[Client, FixedProof]
) -> None:
    raw_client, fixed = raw
    reviews = PeerReviewClient(client, settings)
    r = referral("persistent")
    review_input = ReviewInput(referral=r, policy=settings.policy)
    async with new_worker(client, settings, store):
        fixed.next_proof = None
        handle = await raw_client.start_workflow(
            "PeerReviewWorkflow", review_input, id=workflow_id(r.referral_id), task_queue=settings.task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        assert isinstance(failed.value.cause, ApplicationError) and failed.value.cause.type == "Unproven"
        assert await store.audit_record(r.referral_id) is None
        # A proof that names someone other than the referrer does not start one either.
        forged = ReviewInput(referral=referral("persistent"), policy=settings.policy)
        as_chair = forged.model_copy(update={"referral": forged.referral.model_copy(update={"referred_by": CHAIR})})
        fixed.next_proof = make_proof(settings, forged.referral.referral_id, START, [as_chair])
        handle = await raw_client.start_workflow(
            "PeerReviewWorkflow", forged, id=workflow_id(forged.referral.referral_id), task_queue=settings.task_queue
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        assert "someone other" in str(failed.value.cause)
        # The project's client proves the referrer, and the record says how.
        ok = referral("persistent")
        await reviews.refer(ok)
        await triaged(reviews, ok.referral_id)
        first = (await reviews.audit_trail(ok.referral_id))[0]
        assert first.action == "referred" and first.proven_by and first.proven_by.endswith(f"for {ok.referred_by}")


async def test_an_operator_proof_names_the_os_user(
    client: Client, settings: Settings, store: RecordsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "ops.alice")
    monkeypatch.setenv("LOGNAME", "ops.alice")
    reviews = PeerReviewClient(client, settings)
    async with new_worker(client, settings, store):
        r = referral("persistent")
        await reviews.refer(r)
        await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor=CHAIR))
        trail = [e for e in await reviews.audit_trail(r.referral_id) if not e.action.startswith("notification")]
        assert trail[0].proven_by == f"operator ops.alice for {r.referred_by}"
        assert trail[-1].action == "approve" and trail[-1].proven_by == f"operator ops.alice for {CHAIR}"
