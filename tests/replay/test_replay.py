"""The baseline history of every path, and a fresh one, replay against the current workflow code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from tests.conftest import TEST_CONVERTER
from tests.replay.paths import HISTORIES, PATHS, record
from workflows.peer_review import PeerReviewWorkflow

# The baseline of the current code, named by path, and any baseline kept from a release in a subfolder.
SAVED = sorted(HISTORIES.rglob("*.json"))


def test_one_baseline_history_per_path() -> None:
    assert {path.stem for path in HISTORIES.glob("*.json")} == set(PATHS)


@pytest.mark.parametrize("saved", SAVED, ids=[str(path.relative_to(HISTORIES).with_suffix("")) for path in SAVED])
async def test_saved_history_replays(saved: Path) -> None:
    history = WorkflowHistory.from_json(f"peer-review-{saved.stem}", saved.read_text())
    replayer = Replayer(workflows=[PeerReviewWorkflow], data_converter=TEST_CONVERTER)
    await replayer.replay_workflow(history)


async def test_fresh_histories_of_every_path_replay(client: Client, settings: Settings, store: RecordsStore) -> None:
    ids = await record(client, settings, store)
    replayed: list[str] = []

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for ref in ids.values():
            replayed.append(ref)
            yield await client.get_workflow_handle(f"peer-review-{ref}").fetch_history()

    replayer = Replayer(workflows=[PeerReviewWorkflow], data_converter=TEST_CONVERTER)
    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    assert not results.replay_failures
    assert len(replayed) == len(PATHS)
