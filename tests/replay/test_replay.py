"""The baseline history of every path, and a fresh one, replay against the current workflow code."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from tests.helpers import EXAMPLES, TEST_KEY_FILE
from tests.replay.paths import HISTORIES, PATHS, record
from worker import build_replayer

# Replayed as the worker runs: the test key ring, header sealing, and the proof checks with the test signing keys.
REPLAY_SETTINGS = Settings(key_file=TEST_KEY_FILE, directory=EXAMPLES / "directory.yaml")

# The baseline of the current code, named by path, and any baseline kept from a release in a subfolder.
SAVED = sorted(HISTORIES.rglob("*.json"))


def test_one_baseline_history_per_path() -> None:
    assert {path.stem for path in HISTORIES.glob("*.json")} == set(PATHS)


@pytest.mark.parametrize("saved", SAVED, ids=[str(path.relative_to(HISTORIES).with_suffix("")) for path in SAVED])
async def test_saved_history_replays(saved: Path) -> None:
    # Under its own workflow id: the proofs in it are bound to that review.
    document = json.loads(saved.read_text())
    workflow_id = document["events"][0]["workflowExecutionStartedEventAttributes"]["workflowId"]
    history = WorkflowHistory.from_json(workflow_id, document)
    await build_replayer(REPLAY_SETTINGS).replay_workflow(history)


async def test_fresh_histories_of_every_path_replay(client: Client, settings: Settings, store: RecordsStore) -> None:
    ids = await record(client, settings, store)
    replayed: list[str] = []

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for ref in ids.values():
            replayed.append(ref)
            yield await client.get_workflow_handle(f"peer-review-{ref}").fetch_history()

    results = await build_replayer(REPLAY_SETTINGS).replay_workflows(histories(), raise_on_replay_failure=False)
    assert not results.replay_failures
    assert len(replayed) == len(PATHS)
