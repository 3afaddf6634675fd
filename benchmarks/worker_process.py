"""A benchmark worker in its own process, as in production: `python -m benchmarks.worker_process KIND` with
KIND project, twin (bare) or shaped.

Settings come from the environment like the real worker's; BENCH_WORKER_TUNING (JSON) carries the worker
options. The project's worker is built by worker.build_worker, the twins' with the same options.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

import structlog

from benchmarks.stack import READY, TUNING_VARIABLE, bench_client, twin_worker
from peer_review.logs import configure_logging
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.bytecode import keep_bytecode, remember_code
from worker import build_worker


async def serve(kind: str, settings: Settings) -> None:
    tuning = json.loads(os.environ.get(TUNING_VARIABLE, "{}"))
    client = await bench_client(settings.temporal_address, settings.key_file)
    store = RecordsStore.from_url(settings.records_url)
    await store.create_schema()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    worker = (
        build_worker(client, settings, store, **tuning)
        if kind == "project"
        else twin_worker(kind, client, settings, tuning)
    )
    try:
        async with worker:
            structlog.get_logger(__name__).info(READY, kind=kind)
            await stop.wait()
    finally:
        await store.close()


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    # As worker.py does, for the project's workers and the twins alike (the shaped twin's workflows are in benchmarks).
    keep_bytecode()
    remember_code(("workflows", "benchmarks"))
    asyncio.run(serve(sys.argv[1], settings))


if __name__ == "__main__":
    main()
