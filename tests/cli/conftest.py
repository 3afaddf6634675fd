"""The command-line fixtures: a real worker process beside the session's dev server (tests/e2e/conftest.py), and one
on its own records database for CLI tests that dispose of records (the e2e tests' database is
shared by the session, so a retention run there would destroy other tests' reviews)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.e2e.conftest import BIN, Cli, CliEnv, cli, cli_env
from tests.helpers import ROOT

__all__ = ["cli", "cli_env", "own_records_cli"]


@pytest.fixture(scope="module")
def own_records_env(
    env: WorkflowEnvironment, cli_env: CliEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CliEnv]:
    """The e2e settings with a fresh database and task queue, and a retention period of 0 years: every review closed
    before a run is past retention."""
    data = tmp_path_factory.mktemp("retention-cli")
    variables = {
        **cli_env.variables,
        "PEER_REVIEW_TASK_QUEUE": f"retention-cli-{uuid.uuid4()}",
        "PEER_REVIEW_RECORDS_URL": f"sqlite+aiosqlite:///{data / 'records.db'}",
        "PEER_REVIEW_RETENTION_YEARS": "0",
    }
    log = (data / "worker.log").open("wb")
    worker = subprocess.Popen([BIN / "peer-review-worker"], env=variables, cwd=ROOT, stdout=log, stderr=log)
    yield CliEnv(variables, data / "worker.log")
    worker.terminate()
    assert worker.wait(timeout=30) == 0, (data / "worker.log").read_text()


@pytest.fixture
def own_records_cli(own_records_env: CliEnv, tmp_path: Path) -> Cli:
    return Cli(dict(own_records_env.variables), tmp_path)
