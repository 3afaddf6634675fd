"""The three key rings and where they live (peer_review.settings): payload encryption, the audit chain's HMAC keys,
and the keys that sign proofs of the acting person. Same file format and rotation (peer_review.temporal.codec)."""

from __future__ import annotations

from peer_review.settings import Settings
from peer_review.temporal.codec import KeyRing

OPERATOR_KEYS = "operator-"
API_KEYS = "api-"


def load_chain_ring(settings: Settings) -> KeyRing:
    return KeyRing.load(settings.chain_keys_path, "chain key ring", "PEER_REVIEW_CHAIN_KEY_FILE")


def load_signing_ring(settings: Settings) -> KeyRing:
    return KeyRing.load(settings.signing_keys_path, "signing key ring", "PEER_REVIEW_SIGNING_KEY_FILE")


def ensure_local_key_rings(settings: Settings) -> None:
    """For `make run` on a fresh machine: create whichever ring is missing (mode 0600), beside the payload key ring.

    The signing ring gets an operator key (the `peer-review` command signs with it, and the record names the OS
    user) and an API key; the chain ring one key. A deployment issues these from its secret store instead.
    """
    KeyRing.ensure(settings.key_file)
    KeyRing.ensure(settings.chain_keys_path)
    KeyRing.ensure(settings.signing_keys_path, OPERATOR_KEYS, API_KEYS)
