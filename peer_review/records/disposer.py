"""A process of its own for disposal batches, so that a retention run never shares the worker's process.

A batch reads a few thousand rows, checks their chains, seals certificates and deletes, in one transaction: CPU work
and allocations that, in the worker's process, would hold its event loop and interpreter lock (and set off its
garbage collector) while decisions wait. `Disposer` runs each batch in one child process, spawned at the worker's
first batch and kept, at a lower priority, with its own event loop and database engine. A batch is still one
transaction; a child left running by a worker killed mid-batch either commits it or not, and the batch retried
elsewhere disposes only of what is still past retention.

Imported by activities/retention.py; the child imports only this module and what it needs from peer_review.records.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from peer_review.domain.audit_chain import ChainKey
from peer_review.domain.retention import DisposalBatch
from peer_review.records.retention import dispose_batch
from peer_review.records.store import RecordsStore

# Decisions come first: the child gives way to the worker (and the server) for the CPU.
NICENESS = 10
PARENT_CHECK_SECONDS = 1.0
# After each batch the run rests as long as the batch took: half the time the database's write lock (SQLite has one)
# and the CPU are free for record writes and decisions, at the cost of a longer run (about 2 minutes for 100,000
# reviews here, where the target is 5).
REST_PER_BATCH_SECOND = 1.0


class Disposer:
    """Disposes of batches in a child process when the records database is a file or a server it can reach."""

    def __init__(self, store: RecordsStore) -> None:
        self.store = store
        self.url = store.engine.url.render_as_string(hide_password=False)
        # An in-memory SQLite database exists only in this process: its batches stay here.
        self.in_process = store.engine.url.get_backend_name() == "sqlite" and store.engine.url.database in (
            None,
            "",
            ":memory:",
        )
        self._child: ProcessPoolExecutor | None = None

    async def dispose(
        self, batch: DisposalBatch, *, cutoff: datetime, chain_key: ChainKey, chain_keys: Mapping[str, bytes]
    ) -> int:
        began = time.monotonic()
        if self.in_process:
            disposed = await dispose_batch(self.store, batch, cutoff=cutoff, chain_key=chain_key, chain_keys=chain_keys)
        else:
            disposed = await asyncio.get_running_loop().run_in_executor(
                self._process(), _dispose_here, self.url, batch, cutoff, chain_key, dict(chain_keys)
            )
        if disposed:
            await asyncio.sleep((time.monotonic() - began) * REST_PER_BATCH_SECOND)
        return disposed

    def close(self) -> None:
        if self._child is not None:
            self._child.shutdown(wait=False, cancel_futures=True)

    def _process(self) -> ProcessPoolExecutor:
        if self._child is None:
            # Spawned, not forked: the worker runs threads that a fork would copy mid-flight.
            self._child = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_in_child
            )
        return self._child


# --- In the child ------------------------------------------------------------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None
_stores: dict[str, RecordsStore] = {}


def _in_child() -> None:
    os.nice(NICENESS)
    # A worker killed with -9 cannot stop its child: the child stops itself once its parent has gone (an open
    # transaction is then rolled back, as if the worker had run it and died).
    parent = os.getppid()

    def outlive_no_parent() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=outlive_no_parent, name="parent-watch", daemon=True).start()


def _dispose_here(
    url: str, batch: DisposalBatch, cutoff: datetime, chain_key: ChainKey, chain_keys: Mapping[str, bytes]
) -> int:
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    store = _stores.setdefault(url, RecordsStore.from_url(url))
    return _loop.run_until_complete(
        dispose_batch(store, batch, cutoff=cutoff, chain_key=chain_key, chain_keys=chain_keys)
    )
