"""The pieces every phase shares: the data converter, Settings for a throw-away records DB, the workers.

Workers run in their own processes by default, as in production: a worker sharing the load generator's
process and GIL delays the generator's own calls and inflates the latencies it measures.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.worker import Worker

from benchmarks.shaped_twin import ShapedTwinWorkflow, shaped_activity
from benchmarks.twin import BareTwinWorkflow, noop
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.converter import data_converter
from peer_review.temporal.names import NOTIFICATIONS_QUEUE_SUFFIX, RECORDS_QUEUE_SUFFIX
from peer_review.temporal.proofs import with_sealed_headers
from peer_review.temporal.sandbox import workflow_runner
from worker import PeerReviewWorker, build_worker

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "examples" / "directory.yaml"
# How a worker process (benchmarks.worker_process) gets its options, and what it logs once it polls.
TUNING_VARIABLE = "BENCH_WORKER_TUNING"
READY = "benchmark worker started"


def bench_converter(key_file: Path) -> DataConverter:
    """The converter the worker process uses: encrypted when the project has its payload codec."""
    try:
        from peer_review.temporal.converter import encrypted_converter
        from peer_review.temporal.key_rings import ensure_local_key_rings
    except ImportError:  # a tree without payload encryption: plain pydantic JSON
        return data_converter()
    # The payload key ring, and beside it the chain and signing rings the worker and the client need.
    ensure_local_key_rings(Settings(key_file=key_file))
    return encrypted_converter(key_file)


async def bench_client(address: str, key_file: Path) -> Client:
    return await Client.connect(address, data_converter=bench_converter(key_file))


def build_twin_worker(client: Client, settings: Settings, tuning: dict[str, Any]) -> Worker:
    # The options build_worker sets, plus the same tuning, so only the workflow and activities differ.
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[BareTwinWorkflow],
        workflow_runner=workflow_runner(client.data_converter),
        activities=[noop],
        graceful_shutdown_timeout=timedelta(seconds=settings.shutdown_grace_seconds),
        **tuning,
    )


def build_shaped_twin_worker(client: Client, settings: Settings, tuning: dict[str, Any]) -> PeerReviewWorker:
    """As build_worker builds the project's: the workflow worker with the same cache and tuning, and one
    worker with its own activity slots on each side-effect task queue the project's worker polls."""
    grace = timedelta(seconds=settings.shutdown_grace_seconds)
    client = with_sealed_headers(client)  # as build_worker's: the headers are unsealed by the codec
    decisions = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ShapedTwinWorkflow],
        workflow_runner=workflow_runner(client.data_converter),
        activities=[shaped_activity],
        graceful_shutdown_timeout=grace,
        **{"max_cached_workflows": settings.max_cached_workflows, **tuning},
    )
    beside = [
        Worker(
            client,
            task_queue=settings.task_queue + suffix,
            activities=[shaped_activity],
            graceful_shutdown_timeout=grace,
        )
        for suffix in (RECORDS_QUEUE_SUFFIX, NOTIFICATIONS_QUEUE_SUFFIX)
    ]
    return PeerReviewWorker(decisions, *beside)


def twin_worker(kind: str, client: Client, settings: Settings, tuning: dict[str, Any]) -> Any:
    """The bare or the shaped twin's worker (an async context manager either way)."""
    if kind == "shaped":
        return build_shaped_twin_worker(client, settings, tuning)
    return build_twin_worker(client, settings, tuning)


def spawn(command: list[str], environment: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(command, env=environment, cwd=ROOT, stdout=log, stderr=log)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, the real worker's graceful shutdown; kill only if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _logged(path: Path, text: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"{process.args!r} exited early ({process.returncode}): {path.read_text()[-2000:]}")
    return path.exists() and text in path.read_text(errors="replace")


async def wait_for_log(path: Path, text: str, process: subprocess.Popen[bytes], within: float = 60.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if _logged(path, text, process):
                return
            await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Stack:
    """One benchmark run's environment: where the server is and where throw-away state goes."""

    client: Client
    workdir: Path
    key_file: Path
    tuning: dict[str, Any]
    in_process: bool = False

    def settings(self, name: str) -> Settings:
        return Settings(
            temporal_address=self.client.service_client.config.target_host,
            task_queue=f"bench-{name}-{uuid.uuid4().hex[:8]}",
            records_url=f"sqlite+aiosqlite:///{self.workdir / f'records-{name}.db'}",
            directory=DIRECTORY,
            key_file=self.key_file,
        )

    def environment(self, settings: Settings) -> dict[str, str]:
        """The same settings as environment variables, for worker processes and the CLI."""
        return {**os.environ, **settings.environment(), "PEER_REVIEW_LOG_FORMAT": "json"}

    @asynccontextmanager
    async def worker(self, kind: str, settings: Settings) -> AsyncIterator[int]:
        """Run the project's or a twin's worker ("project", "twin", "shaped") for the block; yields the pid whose
        CPU is the worker's."""
        if self.in_process:
            async with self._in_process(kind, settings):
                yield os.getpid()
            return
        log_path = self.workdir / f"worker-{kind}.log"
        environment = {
            **self.environment(settings),
            TUNING_VARIABLE: json.dumps(self.tuning),
        }
        process = spawn([sys.executable, "-m", "benchmarks.worker_process", kind], environment, log_path)
        try:
            await wait_for_log(log_path, READY, process)
            yield process.pid
        finally:
            await asyncio.to_thread(stop_process, process)

    @asynccontextmanager
    async def _in_process(self, kind: str, settings: Settings) -> AsyncIterator[None]:
        store = RecordsStore.from_url(settings.records_url)
        await store.create_schema()
        try:
            built = (
                build_worker(self.client, settings, store, **self.tuning)
                if kind == "project"
                else twin_worker(kind, self.client, settings, self.tuning)
            )
            async with built:
                yield
        finally:
            await store.close()
