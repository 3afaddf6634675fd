"""Operator commands: the key rings (`keys`), the codec server and the HTTP API (`api`)."""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from peer_review.cli.common import JsonFlag, emit_json, err, fail, out
from peer_review.domain.proofs import Via
from peer_review.foreground import run_until_signalled
from peer_review.settings import Settings
from peer_review.temporal.client import InvalidInput, ReviewError
from peer_review.temporal.codec import KeyRing, KeyRingError


def register(app: typer.Typer) -> None:
    app.add_typer(keys, name="keys")
    app.command("codec-server")(codec_server)
    app.command("api")(api)


keys = typer.Typer(
    help="The key rings: payload encryption (PEER_REVIEW_KEY_FILE), the audit chain (PEER_REVIEW_CHAIN_KEY_FILE) and "
    "proof signing (PEER_REVIEW_SIGNING_KEY_FILE): list, add, activate."
)


class Ring(StrEnum):
    PAYLOAD = "payload"
    CHAIN = "chain"
    SIGNING = "signing"


RingOption = Annotated[Ring, typer.Option("--ring", help="Which key ring.")]


def ring_path(ring: Ring) -> Path:
    settings = Settings()
    return {
        Ring.PAYLOAD: settings.key_file,
        Ring.CHAIN: settings.chain_keys_path,
        Ring.SIGNING: settings.signing_keys_path,
    }[ring]


@keys.command("list")
def keys_list(ring: RingOption = Ring.PAYLOAD, as_json: JsonFlag = False) -> None:
    """The key ids in the ring; the last one (of each kind, for signing keys) is used. Never prints key material."""
    path = ring_path(ring)
    try:
        loaded = KeyRing.load(path, f"{ring.value} key ring")
    except KeyRingError as error:
        fail(ReviewError(str(error)))
    ids = list(loaded.keys)
    if as_json:
        emit_json({"key_file": str(path), "keys": ids, "encrypting": loaded.newest})
        return
    for key_id in ids:
        out.print(f"{key_id}{'  (newest)' if key_id == loaded.newest else ''}")


@keys.command("add")
def keys_add(
    ring: RingOption = Ring.PAYLOAD,
    signer: Annotated[
        Via | None, typer.Option("--signer", help="With --ring signing: a key for operator tooling or the API.")
    ] = None,
    staged: Annotated[
        bool, typer.Option("--staged", help="Unused until `keys activate`: the first step of a rotation.")
    ] = False,
) -> None:
    """Add a new key. Rotation: `keys add --staged`, restart everything, `keys activate ID`, restart again."""
    if (ring is Ring.SIGNING) != (signer is not None):
        fail(InvalidInput("--signer: say operator or api with --ring signing, and only then"))
    prefix = f"{signer.value}-" if signer else ""
    key_id = KeyRing.add_key(ring_path(ring), staged=staged, prefix=prefix)
    out.print(f"Added {key_id}{' (staged: not used yet)' if staged else ' (used from now on)'}")


@keys.command("activate")
def keys_activate(
    key_id: Annotated[str, typer.Argument(help="A key id from `keys list`.")], ring: RingOption = Ring.PAYLOAD
) -> None:
    """Make a staged key the one that is used."""
    try:
        KeyRing.activate(ring_path(ring), key_id)
    except KeyRingError as error:
        fail(InvalidInput(str(error)))
    out.print(f"{key_id} is now used; restart workers, the codec server, the API and CLI hosts.")


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
    run_until_signalled(partial(serve, settings, api=api_settings, freeze_start_up=True))
