"""Each fault scenario gets its own dev server and worker process, torn down whatever happens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Protocol

import pytest

from peer_review.records.store import RecordsStore
from peer_review.temporal.dev_server import DevServer
from tests.helpers.stack import Stack, WorkerProcess, fault_slot, persisted_server, stack_settings, worker_variables

StoreOpener = Callable[[Stack], RecordsStore]


class Launch(Protocol):
    def __call__(self, **settings: object) -> Awaitable[Stack]: ...


@pytest.fixture
async def launch(tmp_path: Path) -> AsyncIterator[Launch]:
    """Start a server and a worker process; `settings` override the scenario's Settings (both sides use them).
    The scenario holds a fault slot from its first start to its end."""
    async with fault_slot():
        async for start in _launch(tmp_path):
            yield start


async def _launch(tmp_path: Path) -> AsyncIterator[Launch]:
    servers: list[DevServer] = []
    workers: list[WorkerProcess] = []

    async def start(**settings: object) -> Stack:
        server = persisted_server(tmp_path)
        servers.append(server)  # before starting, so a server that never comes up is still stopped
        await server.start()
        chosen = stack_settings(server, tmp_path, **settings)
        worker = WorkerProcess(worker_variables(chosen), tmp_path / "worker.log")
        workers.append(worker)
        await worker.start()
        return Stack(server, worker, chosen, tmp_path / "records.db")

    yield start
    for worker in workers:
        worker.stop_quietly()
    for server in servers:
        server.stop()


@pytest.fixture
async def stack(launch: Launch) -> Stack:
    """The scenario's server and worker process, started with the scenario's default settings."""
    return await launch()


@pytest.fixture
async def open_store() -> AsyncIterator[StoreOpener]:
    """The test's own reader of the records database the worker writes."""
    opened: list[RecordsStore] = []

    def open_(stack: Stack) -> RecordsStore:
        store = RecordsStore.from_url(stack.settings.records_url)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.close()
