"""Operator commands: the payload key ring (`keys`), the codec server and the HTTP API (`api`)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from pydantic import ValidationError

from peer_review.cli.common import JsonFlag, emit_json, err, fail, out
from peer_review.foreground import run_until_signalled
from peer_review.settings import Settings
from peer_review.temporal.client import InvalidInput, ReviewError
from peer_review.temporal.codec import KeyRing, KeyRingError


def register(app: typer.Typer) -> None:
    app.add_typer(keys, name="keys")
    app.command("codec-server")(codec_server)
    app.command("api")(api)


keys = typer.Typer(help="The payload encryption key ring (PEER_REVIEW_KEY_FILE): list, add, activate.")


@keys.command("list")
def keys_list(as_json: JsonFlag = False) -> None:
    """The key ids in the ring; the last one encrypts. Never prints key material."""
    settings = Settings()
    try:
        ring = KeyRing.load(settings.key_file)
    except KeyRingError as error:
        fail(ReviewError(str(error)))
    ids = list(ring.keys)
    if as_json:
        emit_json({"key_file": str(settings.key_file), "keys": ids, "encrypting": ring.newest})
        return
    for key_id in ids:
        out.print(f"{key_id}{'  (encrypts)' if key_id == ring.newest else ''}")


@keys.command("add")
def keys_add(
    staged: Annotated[
        bool, typer.Option("--staged", help="Decrypt-only until `keys activate`: the first step of a rotation.")
    ] = False,
) -> None:
    """Add a new key. Rotation: `keys add --staged`, restart everything, `keys activate ID`, restart again."""
    key_id = KeyRing.add_key(Settings().key_file, staged=staged)
    out.print(f"Added {key_id}{' (staged: decrypts only)' if staged else ' (encrypts from now on)'}")


@keys.command("activate")
def keys_activate(key_id: Annotated[str, typer.Argument(help="A key id from `keys list`.")]) -> None:
    """Make a staged key the one that encrypts."""
    try:
        KeyRing.activate(Settings().key_file, key_id)
    except KeyRingError as error:
        fail(InvalidInput(str(error)))
    out.print(f"{key_id} now encrypts; restart workers, the codec server, the API and CLI hosts.")


def codec_server() -> None:
    """Serve the payload codec so the Temporal Web UI can show decrypted reviews (PEER_REVIEW_CODEC_*)."""
    from peer_review.temporal.codec_server import serve_codec

    settings = Settings()
    out.print(f"Codec server on http://{settings.codec_host}:{settings.codec_port} (Ctrl-C stops it)")

    try:
        run_until_signalled(partial(serve_codec, settings))
    except KeyRingError as error:
        fail(ReviewError(str(error)))


def api(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: PEER_REVIEW_API_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: PEER_REVIEW_API_PORT or 8000].")] = None,
) -> None:
    """Serve the HTTP API (/referrals, OpenAPI at /openapi.json) and the pages, until Ctrl-C or SIGTERM."""
    # Imported here, not at the top: every other command (say, `list`) would pay for them at start-up.
    from peer_review.foreground import run_until_signalled
    from peer_review.logs import configure_logging
    from peer_review.web.app import ApiSettings, serve

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        api_settings = ApiSettings()
    except ValidationError as error:
        fail(ReviewError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())))
    changes = {key: value for key, value in (("api_host", host), ("api_port", port)) if value is not None}
    api_settings = api_settings.model_copy(update=changes)
    err.print(f"Peer Review API on http://{api_settings.api_host}:{api_settings.api_port}/", highlight=False)
    # The same signal handling as the worker: SIGTERM lets requests in flight finish, then exits 0.
    run_until_signalled(partial(serve, settings, api=api_settings))
