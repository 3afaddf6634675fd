"""A worker process on the session's dev server, and the `peer-review` command pointed at it."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient, workflow_id
from tests.faults.harness import BIN, WorkerProcess, worker_variables
from tests.helpers import EXAMPLES, ROOT, TEST_KEY_FILE

# Lines a worker writes when a workflow or activity task fails (the SDK's and core's wording).
TASK_FAILURE = re.compile(r"Failing workflow task|Failed activation|WorkflowTaskFailure|Completing activity as failed")


@dataclass
class Cli:
    settings: Settings
    worker: WorkerProcess
    files: Path

    def run(self, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "peer-review"), *args],
            env={**self.worker.variables, "COLUMNS": str(columns)},  # rich's width when not on a terminal
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def write(self, data: object = None, *, raw: bytes | None = None) -> str:
        path = self.files / f"{uuid.uuid4().hex}.json"
        path.write_bytes(raw if raw is not None else json.dumps(data).encode())
        return str(path)

    def task_failures(self) -> list[str]:
        return [line[:300] for line in self.worker.log().splitlines() if TASK_FAILURE.search(line)]


@pytest.fixture(scope="module")
async def cli(env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cli]:
    work = tmp_path_factory.mktemp("bad-input")
    settings = Settings(
        temporal_address=env.client.service_client.config.target_host,
        task_queue=f"bad-input-{uuid.uuid4().hex[:8]}",
        records_url=f"sqlite+aiosqlite:///{work / 'records.db'}",
        directory=EXAMPLES / "directory.yaml",
        key_file=TEST_KEY_FILE,
    )
    worker = WorkerProcess(worker_variables(settings), work / "worker.log")
    await worker.start()
    files = work / "payloads"
    files.mkdir()
    yield Cli(settings, worker, files)
    code, _ = worker.terminate()
    assert code == 0, worker.log()[-3000:]


@pytest.fixture(scope="module")
async def reviews(cli: Cli) -> PeerReviewClient:
    return await PeerReviewClient.connect(cli.settings)


async def started(reviews: PeerReviewClient, referral_id: str) -> bool:
    """Whether any workflow exists for this referral id (running or not)."""
    try:
        await reviews.client.get_workflow_handle(workflow_id(referral_id)).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


def unwrapped(text: str) -> str:
    """Output with rich's line wrapping undone, so a long message can be searched for a field name."""
    return " ".join(text.split())
