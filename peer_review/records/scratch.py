"""A PostgreSQL database of its own for a run that needs empty tables (the reports' tests and benchmark): created
beside the one a URL names, with the schema, and dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from peer_review.records.store import RecordsStore


@asynccontextmanager
async def scratch_database(server_url: str, prefix: str) -> AsyncIterator[RecordsStore]:
    """A new database `<prefix>_<random>` on the server of `server_url`, as a store with the schema made."""
    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        store = RecordsStore.from_url(url.set(database=name).render_as_string(hide_password=False))
        try:
            await store.create_schema()
            yield store
        finally:
            await store.close()
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE "{name}"'))
    finally:
        await admin.dispose()
