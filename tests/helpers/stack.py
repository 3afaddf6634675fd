"""Real processes: a persisted Temporal dev server (peer_review.temporal.dev_server) and `peer-review-worker`, both
killable; for the fault, CLI and bad-input tests.

Everything here has a timeout, so a fault that is not recovered from fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec

from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.dev_server import DevServer
from tests.helpers.factories import ROOT
from tests.helpers.temporal import worker_settings

BIN = Path(sys.executable).parent
P = ParamSpec("P")
READY_TIMEOUT = 60.0  # seconds for a worker to come up on a loaded 2-core machine


# Fault scenarios at once across the test processes of one run (pytest-xdist). Two at a time timed out on the
# shared two-core machine (load average 10-13); PEER_REVIEW_FAULT_SLOTS=2 allows two on a quieter one.
FAULT_SLOTS = int(os.environ.get("PEER_REVIEW_FAULT_SLOTS", "1"))


@asynccontextmanager
async def fault_slot() -> AsyncIterator[None]:
    """Hold one of FAULT_SLOTS for a fault scenario: each runs its own dev server, a worker process and 50 reviews,
    and more than FAULT_SLOTS at once on two cores put their time limits at risk. Under pytest-xdist the slots are lock
    files of this run (PYTEST_XDIST_TESTRUNUID); in one process there is nothing to share."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        yield
        return
    folder = Path(tempfile.gettempdir()) / f"peer-review-fault-slots-{run}"
    folder.mkdir(exist_ok=True)
    while True:
        for slot in range(FAULT_SLOTS):
            with (folder / f"{slot}.lock").open("a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
                return
        await asyncio.sleep(1)


def review_count(default: int = 50) -> int:
    """How many reviews a fault scenario puts in flight (PEER_REVIEW_FAULT_REVIEWS, default 50)."""
    return int(os.environ.get("PEER_REVIEW_FAULT_REVIEWS", default))


def _spawn(
    command: list[str], log_path: Path, *, env: dict[str, str] | None = None, own_session: bool = False
) -> subprocess.Popen[bytes]:
    """Start a process logging to a file; Popen returns at once, so this is fine on the event loop."""
    with log_path.open("ab") as log:
        # `own_session` keeps a signal meant for the child from reaching pytest, and the reverse.
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=own_session
        )


def persisted_server(workdir: Path) -> DevServer:
    """A dev server persisted to a file in `workdir`, so a stop and a start keep every workflow."""
    return DevServer(log_file=workdir / "temporal-server.log", db_file=workdir / "temporal.db")


@dataclass
class WorkerProcess:
    """One `peer-review-worker` process; start several in turn to replace one that was killed."""

    variables: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    async def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
        self.process = _spawn([str(BIN / "peer-review-worker")], self.log_path, env=self.variables)
        await self._wait_started()

    async def _wait_started(self) -> None:
        marker = f"--- start {self.starts}\n"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log()
            if "worker started" in self.log().rpartition(marker)[2]:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"worker did not start within {READY_TIMEOUT}s\n{self.log()}")

    def kill(self) -> None:
        """kill -9: no chance to finish or report anything."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> tuple[int, float]:
        """SIGTERM, then wait: returns the exit code and how long the worker took to leave."""
        assert self.process is not None
        began = time.monotonic()
        self.process.terminate()
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(f"worker ignored SIGTERM for {timeout}s\n{self.log()}") from None
        return code, time.monotonic() - began

    def stop_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass(frozen=True)
class Stack:
    """What a scenario runs against: one server, one worker process (restartable), the records database."""

    server: DevServer
    worker: WorkerProcess
    settings: Settings
    records_path: Path

    async def client(self) -> PeerReviewClient:
        return await PeerReviewClient.connect(self.settings)


def stack_settings(server: DevServer, workdir: Path, **overrides: object) -> Settings:
    return worker_settings(workdir, temporal_address=server.address, **overrides)


def worker_variables(settings: Settings) -> dict[str, str]:
    """The worker's environment, from the same settings the test's client uses (so both always agree)."""
    return {**os.environ, **settings.environment(), "PEER_REVIEW_LOG_FORMAT": "json"}


class DatabaseLock:
    """Makes the SQLite records database unusable from a separate connection, the way another process can.

    EXCLUSIVE keeps every other connection from reading or writing: the worker's writes wait out SQLite's busy
    timeout and then fail with "database is locked". (chmod would not do: the tests run as root, which ignores
    file permissions.)
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection: sqlite3.Connection | None = None

    async def hold(self) -> None:
        # Waits for a write already in progress to finish, so this can block: keep it off the event loop.
        self.connection = await asyncio.to_thread(
            sqlite3.connect, self.path, timeout=60, isolation_level=None, check_same_thread=False
        )
        await asyncio.to_thread(self.connection.execute, "BEGIN EXCLUSIVE")

    def release(self) -> None:
        if self.connection is not None:
            self.connection.execute("ROLLBACK")
            self.connection.close()
            self.connection = None


@contextmanager
def showing_worker_log(stack: Stack, tail: int = 6000) -> Iterator[None]:
    """A failed check inside also shows the end of the worker's log: why a decision was slow is only there."""
    try:
        yield
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n--- worker log (end) ---\n{stack.worker.log()[-tail:]}") from None


def time_limit(seconds: float) -> Callable[[Callable[P, Awaitable[None]]], Callable[P, Awaitable[None]]]:
    """Bound a whole async test: no plugin enforces timeouts here, and a test that hangs would stop the suite."""

    def bound(test: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
        @functools.wraps(test)  # pytest still sees the test's own parameters (its fixtures)
        async def bounded(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                await asyncio.wait_for(test(*args, **kwargs), seconds)
            except TimeoutError:
                raise AssertionError(f"{test.__name__} did not finish within {seconds:.0f}s") from None

        return bounded

    return bound
