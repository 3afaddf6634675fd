"""Fixtures for the command-line tests: a worker process and the `peer-review` command, as users run them; and a
worker on its own records database for tests that dispose of records (the session's database is shared, so a
retention run there would destroy other tests' reviews)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.helpers import EXAMPLES, ROOT, TEST_KEY_FILE, example
from tests.helpers.staff import AUDITOR

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class CliEnv:
    variables: dict[str, str]
    worker_log: Path


@pytest.fixture(scope="session")
def cli_env(env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliEnv]:
    """A real worker process (JSON logs to a file) beside the session's dev server."""
    data = tmp_path_factory.mktemp("e2e")
    variables = {
        **os.environ,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "PEER_REVIEW_TASK_QUEUE": f"e2e-{uuid.uuid4()}",
        "PEER_REVIEW_RECORDS_URL": f"sqlite+aiosqlite:///{data / 'records.db'}",
        "PEER_REVIEW_DIRECTORY": str(EXAMPLES / "directory.yaml"),
        "PEER_REVIEW_KEY_FILE": str(TEST_KEY_FILE),
        "PEER_REVIEW_JOURNEY_STAGES": "Acknowledgement,Investigation,Contact with the customer,Response,Remedy",
        "PEER_REVIEW_LOG_FORMAT": "json",
    }
    with worker_process(variables, data) as running:
        yield running


@pytest.fixture(scope="module")
def own_records_env(cli_env: CliEnv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliEnv]:
    """The session's settings with a fresh database and task queue, and a retention period of 0 years: every review
    closed before a run is past retention."""
    data = tmp_path_factory.mktemp("retention-cli")
    variables = {
        **cli_env.variables,
        "PEER_REVIEW_TASK_QUEUE": f"retention-cli-{uuid.uuid4()}",
        "PEER_REVIEW_RECORDS_URL": f"sqlite+aiosqlite:///{data / 'records.db'}",
        "PEER_REVIEW_RETENTION_YEARS": "0",
    }
    with worker_process(variables, data) as running:
        yield running


@contextmanager
def worker_process(variables: dict[str, str], data: Path) -> Iterator[CliEnv]:
    """`peer-review-worker` with these variables, its output in data/worker.log; it must stop cleanly."""
    log = (data / "worker.log").open("wb")
    worker = subprocess.Popen([BIN / "peer-review-worker"], env=variables, cwd=ROOT, stdout=log, stderr=log)
    try:
        yield CliEnv(variables, data / "worker.log")
    finally:
        worker.terminate()
        log.close()
    assert worker.wait(timeout=30) == 0, (data / "worker.log").read_text()


class Cli:
    def __init__(self, variables: dict[str, str], tmp: Path) -> None:
        self.variables = variables
        self.tmp = tmp

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [BIN / "peer-review", *args],
            env=self.variables,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def json(self, *args: str, expect: int = 0, stdin: str | None = None) -> Any:
        done = self.run(*args, "--json", stdin=stdin)
        assert done.returncode == expect, done.stderr + done.stdout
        return json.loads(done.stdout)

    def referral_file(self, kind: str, **changes: Any) -> tuple[str, str]:
        unique = uuid.uuid4().hex[:10]
        data = example(f"referral-{kind}.json")
        # Each test's referral is a case and customer of its own: others in the session are not related to it.
        data |= {"referral_id": f"E-{unique}", "case_reference": f"CMP-{unique}"}
        data["customer"] = {**data["customer"], "reference": f"C-{unique}"}
        data |= changes
        path = self.tmp / f"{data['referral_id']}.json"
        path.write_text(json.dumps(data))
        return data["referral_id"], str(path)

    def referred(self, kind: str, status: str, **changes: Any) -> str:
        """Refer a fresh example referral (see `referral_file`) with `peer-review refer`, wait until it stands at
        `status`, and return its id."""
        ref, path = self.referral_file(kind, **changes)
        self.json("refer", path)
        self.wait_for(ref, status)
        return ref

    def wait_for(self, ref: str, status: str) -> dict[str, Any]:
        for _ in range(100):
            view: dict[str, Any] = self.json("status", ref, "--as", AUDITOR)
            if view["status"] == status:
                return view
            time.sleep(0.1)
        raise AssertionError(f"{ref} never reached {status}: {view}")

    def wait_until_finished(self, ref: str) -> None:
        """Wait until the review's workflow has finished. By then its whole record is written: a review writes its
        last moves and what became of their notifications before it returns."""
        for _ in range(100):
            events: list[dict[str, Any]] = self.json("history", ref, "--as", AUDITOR)
            if events[-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED":
                return
            time.sleep(0.1)
        raise AssertionError(f"{ref} never finished: its last event is {events[-1]['eventType']}")


@pytest.fixture
def cli(cli_env: CliEnv, tmp_path: Path) -> Cli:
    return Cli(dict(cli_env.variables), tmp_path)


@pytest.fixture
def own_records_cli(own_records_env: CliEnv, tmp_path: Path) -> Cli:
    return Cli(dict(own_records_env.variables), tmp_path)
