"""The records schema made by several processes at the same moment: `make run` starts the worker and the API
together, and a deployment starts its replicas together; each makes the schema it needs on a fresh database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import inspect

from peer_review.records.schema import metadata
from peer_review.records.store import RecordsStore
from tests.helpers import fresh_postgres, postgres_url

# Each maker has an engine of its own, as separate processes would; several fresh databases, since one race may
# happen to go the lucky way.
MAKERS = 4
DATABASES = 6


@asynccontextmanager
async def fresh_database(backend: str, folder: Path, number: int) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'records-{number}.db'}"
    else:
        async with fresh_postgres(postgres_url()) as url:
            yield url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_makers_starting_together_all_succeed_and_make_every_table(backend: str, tmp_path: Path) -> None:
    for number in range(DATABASES if backend == "sqlite" else 2):
        async with fresh_database(backend, tmp_path, number) as url:
            stores = [RecordsStore.from_url(url) for _ in range(MAKERS)]
            try:
                await asyncio.gather(*(store.create_schema() for store in stores))
                async with stores[0].engine.connect() as connection:
                    tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
                assert set(metadata.tables) <= tables
            finally:
                await asyncio.gather(*(store.close() for store in stores))
