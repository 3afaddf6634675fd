"""One scripted run per lifecycle path; `.venv/bin/python -m tests.replay.paths` re-saves their histories.

tests/replay/histories/ holds one baseline history per path, named by the path. test_replay.py replays them against the
current workflow code, so a change that would break running reviews fails the suite. Re-saving overwrites the
baseline: do it after a deliberate workflow change, and only while no review runs on the code that wrote the old
one (see "Shipping a workflow change" in the README).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import ChairDecision, Decision, Reason, ReasonAddition, Withdrawal
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal import search_attributes as sa
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.converter import encrypted_converter
from tests.helpers import TEST_KEY_FILE, new_worker, referral, venv_binary, worker_settings
from tests.helpers.steps import APPROVE, ASSIGN, CLEAR, CONTENTIOUS_FINDINGS, FINDINGS, REWORK, SIGN_OFF, Step

HISTORIES = Path(__file__).resolve().parent / "histories"
PathStep = Step | ChairDecision

PATHS: dict[str, tuple[str, list[PathStep]]] = {
    "approved_completed": ("complex-issue", [APPROVE, ASSIGN, FINDINGS, SIGN_OFF]),
    "mandatory_completed": ("suicide", [ASSIGN, FINDINGS, SIGN_OFF]),
    "declined": ("persistent", [(ActionName.DECLINE, Decision(actor="S100", rationale="Already resolved"))]),
    "withdrawn": ("other", [(ActionName.WITHDRAW, Withdrawal(actor="S300", reason="Customer withdrew"))]),
    "contentious_rework": (
        "additional-needs",
        [
            APPROVE,
            ASSIGN,
            CONTENTIOUS_FINDINGS,
            CLEAR,
            REWORK,
            FINDINGS,
            SIGN_OFF,
        ],
    ),
    "made_mandatory_in_place": (
        "complex-issue",
        [
            (ActionName.ADD_REASON, ReasonAddition(actor="S300", reason=Reason.SUICIDE, detail="Came to light")),
            ASSIGN,
            FINDINGS,
            SIGN_OFF,
        ],
    ),
    "signal_decision_with_rejection": (
        "persistent",
        [
            ChairDecision(actor="S400", decision="approve"),
            ChairDecision(actor="S100", decision="decline", rationale="Handled locally"),
        ],
    ),
}


async def run_path(reviews: PeerReviewClient, kind: str, steps: list[PathStep]) -> str:
    r = referral(kind)
    await reviews.refer(r)
    for step in steps:
        if isinstance(step, ChairDecision):
            await reviews.signal_chair_decision(r.referral_id, step)
        else:
            await reviews.act(r.referral_id, *step)
    handle = reviews.client.get_workflow_handle(f"peer-review-{r.referral_id}")
    await handle.result()
    return r.referral_id


async def record(client: Client, settings: Settings, store: RecordsStore) -> dict[str, str]:
    reviews = PeerReviewClient(client, settings)
    async with new_worker(client, settings, store):
        return {name: await run_path(reviews, kind, steps) for name, (kind, steps) in PATHS.items()}


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        data_converter=encrypted_converter(TEST_KEY_FILE),
        search_attributes=sa.ALL,
        dev_server_existing_path=venv_binary("temporal"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        settings = worker_settings(Path(tmp))
        store = RecordsStore.from_url(settings.records_url)
        await store.create_schema()
        try:
            ids = await record(env.client, settings, store)
            HISTORIES.mkdir(exist_ok=True)
            for name, referral_id in ids.items():
                history = await env.client.get_workflow_handle(f"peer-review-{referral_id}").fetch_history()
                (HISTORIES / f"{name}.json").write_text(history.to_json())
                print(f"saved {name}: {len(history.events)} events")
        finally:
            await store.close()
            await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
