"""The PostgreSQL the records tests also run against (PEER_REVIEW_TEST_POSTGRES_URL, by default the machine's on
127.0.0.1:5432), one user at a time.

Tests in parallel processes (pytest-xdist), and other checkouts on the same machine, share that one database, so a
test that writes to it holds a lock file meanwhile: one such test at a time. Tests that need a database of their own
make one with `fresh_postgres`.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

LOCK_FILE = Path(tempfile.gettempdir()) / "peer-review-tests-postgres.lock"


# The machine's PostgreSQL, as .ci/run starts it; the records tests always run on it too, never skipped.
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("PEER_REVIEW_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


@asynccontextmanager
async def postgres_alone() -> AsyncIterator[None]:
    """Hold the machine-wide PostgreSQL lock for the block (waiting off the event loop)."""
    with LOCK_FILE.open("a") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@asynccontextmanager
async def fresh_postgres(base: str) -> AsyncIterator[str]:
    """A new, empty PostgreSQL database beside `base`, dropped afterwards; yields its URL."""
    name = f"tests_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
