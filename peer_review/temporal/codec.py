"""Payload encryption: AES-256-GCM with a key ring, so nothing a review stores at Temporal is plaintext.

The key ring file holds one or more keys. The newest encrypts; any key in the ring decrypts, so a new key
can be added (rotation) while reviews started under an old one keep working. Each encrypted payload names
its key id in its metadata, which is not secret. The same file format (KeyRing) holds the audit chain's keys
and the keys that sign proofs of the acting person; key ids may carry a prefix naming what the key is for.

The codec is strict: a payload that arrives unencrypted is never handed on as data. It becomes a payload of
the REFUSED_PLAINTEXT encoding, which the project's payload converter (peer_review.temporal.converter) turns
into an `UnencryptedPayload` error where the value is used: a plaintext update is refused by the worker, a
plaintext signal is dropped and logged, a plaintext start fails the workflow, and the review is never wedged
by a workflow task that cannot decode its input.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
REFUSED_PLAINTEXT = b"binary/refused-unencrypted"
UNENCRYPTED_PAYLOAD = "UnencryptedPayload"
PLAINTEXT_REFUSAL = (
    "the payload is not encrypted: this service accepts only payloads sealed with its key ring "
    "(send it through the peer-review client or the codec server)"
)


class KeyRingError(Exception):
    """The key ring is missing, malformed, or lacks a key a payload needs."""


class KeyRing:
    def __init__(self, keys: dict[str, bytes], newest: str) -> None:
        if newest not in keys:
            raise KeyRingError("the newest key is not in the ring")
        self.keys = keys
        self.newest = newest

    @classmethod
    def load(cls, path: Path, what: str = "encryption key ring", setting: str = "PEER_REVIEW_KEY_FILE") -> KeyRing:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            entries = document["keys"]
            keys = {entry["id"]: base64.b64decode(entry["key"], validate=True) for entry in entries}
        except FileNotFoundError:
            raise KeyRingError(f"no {what} at {path}: `make run` creates one, or set {setting}") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise KeyRingError(f"the key ring {path} is not valid: {error}") from None
        if not keys or any(len(key) != 32 for key in keys.values()):
            raise KeyRingError(f"the key ring {path} must hold 256-bit keys")
        # Key ids travel in payload metadata, proofs and audit rows (a 64-character column).
        if any(not KEY_ID_PATTERN.fullmatch(key_id) for key_id in keys):
            raise KeyRingError(f"the key ring {path} has a key id that is not 1-64 letters, digits, '.', '_' or '-'")
        return cls(keys, entries[-1]["id"])

    def newest_with(self, prefix: str) -> str:
        """The newest key whose id starts with `prefix` (for rings that hold keys for several purposes)."""
        for key_id in reversed(list(self.keys)):
            if key_id.startswith(prefix):
                return key_id
        raise KeyRingError(f"the key ring holds no {prefix.rstrip('-')} key")

    @staticmethod
    def add_key(path: Path, *, staged: bool = False, prefix: str = "") -> str:
        """Add a fresh key (creating the file, mode 0600, if needed).

        By default it goes last and so encrypts from now on. `staged` puts it first instead: every process
        can already decrypt with it, none encrypts with it until `activate` moves it last. Rotating in these
        two steps means no process ever meets a payload sealed with a key it does not hold yet.
        """
        entries = _entries(path) if path.exists() else []
        # Unique across rings too, so a payload can never be mistaken for another ring's key.
        key_id = f"{prefix}k{len(entries) + 1}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
        entry = {
            "id": key_id,
            "key": base64.b64encode(secrets.token_bytes(32)).decode(),
            "created": f"{datetime.now(UTC)}",
        }
        entries.insert(0 if staged else len(entries), entry)
        _write_private(path, entries)
        return key_id

    @staticmethod
    def activate(path: Path, key_id: str) -> None:
        """Make a key already in the ring the one that encrypts."""
        entries = _entries(path)
        chosen = [entry for entry in entries if entry["id"] == key_id]
        if not chosen:
            raise KeyRingError(f"no key {key_id!r} in {path}")
        _write_private(path, [entry for entry in entries if entry["id"] != key_id] + chosen)

    @classmethod
    def ensure(cls, path: Path, *prefixes: str) -> KeyRing:
        """The ring at `path`, created (mode 0600) with one key per prefix if it has none with that prefix."""
        wanted = prefixes or ("",)
        existing = [entry["id"] for entry in _entries(path)] if path.exists() else []
        for prefix in wanted:
            if not any(key_id.startswith(prefix) for key_id in existing):
                existing.append(cls.add_key(path, prefix=prefix))
        return cls.load(path)


def _entries(path: Path) -> list[dict[str, str]]:
    try:
        entries: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))["keys"]
    except (OSError, ValueError, KeyError) as error:
        raise KeyRingError(f"the key ring {path} cannot be read: {error}") from None
    return entries


def _write_private(path: Path, entries: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a private temporary file first, so the key is never readable by others, even briefly.
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"keys": entries}, handle, indent=2)
    os.replace(temporary, path)


class EncryptionCodec(PayloadCodec):
    """`strict` (the default, for workers and clients) refuses plaintext; the codec server and the history view
    only show payloads to people, so they pass plaintext through as it is."""

    def __init__(self, ring: KeyRing, *, strict: bool = True) -> None:
        self.ring = ring
        self.strict = strict
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id = self.ring.newest
        cipher = self._ciphers[key_id]
        encoded = []
        for payload in payloads:
            nonce = secrets.token_bytes(NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), key_id.encode())
            encoded.append(Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed))
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                # Refused where it is used, not here: failing the decode would fail the whole workflow task, again on
                # every retry, and one stray signal would wedge the review.
                decoded.append(Payload(metadata={"encoding": REFUSED_PLAINTEXT}) if self.strict else payload)
                continue
            key_id = payload.metadata.get(KEY_ID, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise KeyRingError(f"payload encrypted with key {key_id!r}, which is not in the key ring")
            try:
                plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
            except InvalidTag:
                raise KeyRingError(f"payload under key {key_id!r} failed authentication") from None
            decoded.append(Payload.FromString(plain))
        return decoded
