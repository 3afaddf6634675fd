"""Payload encryption: round trips, tampering, the key ring file, rotation and the codec server."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.codec import ENCODING, KEY_ID, REFUSED_PLAINTEXT, EncryptionCodec, KeyRing, KeyRingError
from peer_review.temporal.codec_server import codec_app
from peer_review.temporal.converter import data_converter
from tests.helpers import new_worker, refer, referral, triaged

PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"summary": "private"}')


@pytest.fixture
def ring_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "ring.json"
    KeyRing.add_key(path)
    return path


async def test_round_trip_and_nothing_readable(ring_file: Path) -> None:
    codec = EncryptionCodec(KeyRing.load(ring_file))
    [sealed] = await codec.encode([PLAIN])
    assert sealed.metadata["encoding"] == ENCODING and b"private" not in sealed.data
    assert await codec.decode([sealed]) == [PLAIN]


async def test_the_strict_codec_turns_plaintext_into_a_clear_refusal(ring_file: Path) -> None:
    [refused] = await EncryptionCodec(KeyRing.load(ring_file)).decode([PLAIN])
    assert refused.metadata["encoding"] == REFUSED_PLAINTEXT and b"private" not in refused.data
    with pytest.raises(ApplicationError, match="not encrypted") as error:
        data_converter(EncryptionCodec(KeyRing.load(ring_file))).payload_converter.from_payload(refused, dict)
    assert error.value.type == "UnencryptedPayload"
    # The codec server and the history view only show payloads to people: they pass plaintext through.
    assert await EncryptionCodec(KeyRing.load(ring_file), strict=False).decode([PLAIN]) == [PLAIN]


async def test_a_plaintext_update_signal_or_start_is_refused_and_the_review_goes_on(
    client: Client, settings: Settings, store: RecordsStore
) -> None:
    """A client without the key (plain JSON, no codec) can neither act nor wedge a review: the worker refuses."""
    plain_config = client.config()
    plain_config["data_converter"] = data_converter(None)
    plain = Client(**plain_config)
    reviews = PeerReviewClient(client, settings)
    async with new_worker(client, settings, store):
        ref = await refer(reviews, "persistent")
        before = await triaged(reviews, ref)
        handle = plain.get_workflow_handle(f"peer-review-{ref}")
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await handle.execute_update("approve", {"actor": "S100", "rationale": "plaintext"})
        assert isinstance(failed.value.cause, ApplicationError)
        # The message is sealed like every failure (this client cannot read it); the type says why.
        assert failed.value.cause.type == "UnencryptedPayload"
        await handle.signal("chair_decision", {"actor": "S100", "decision": "approve"})
        # The review still answers and acts: the plaintext signal was dropped, not stuck in every workflow task.
        assert await reviews.status(ref) == before
        view = await reviews.act(ref, ActionName.APPROVE, Decision(actor="S100"))
        assert view.status == "awaiting_reviewer"
        assert not [e for e in await reviews.audit_trail(ref) if e.detail == "plaintext"]
        started = await plain.start_workflow(
            "PeerReviewWorkflow",
            {"referral": referral("persistent").model_dump(mode="json"), "policy": settings.policy.model_dump()},
            id=f"peer-review-plain-{ref}",
            task_queue=settings.task_queue,
        )
        with pytest.raises(WorkflowFailureError) as start_failed:
            await started.result()
        cause = start_failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == "UnencryptedPayload"


async def test_tampering_and_unknown_keys_are_refused(ring_file: Path, tmp_path: Path) -> None:
    codec = EncryptionCodec(KeyRing.load(ring_file))
    [sealed] = await codec.encode([PLAIN])
    tampered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(KeyRingError, match="failed authentication"):
        await codec.decode([tampered])
    KeyRing.add_key(tmp_path / "other.json")
    other = EncryptionCodec(KeyRing.load(tmp_path / "other.json"))
    with pytest.raises(KeyRingError, match="not in the key ring"):
        await other.decode([sealed])


def test_key_ring_file_is_private_and_validated(ring_file: Path, tmp_path: Path) -> None:
    assert stat.S_IMODE(ring_file.stat().st_mode) == 0o600
    with pytest.raises(KeyRingError, match="no encryption key ring"):
        KeyRing.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"keys": [{"id": "k", "key": "c2hvcnQ="}]}))
    with pytest.raises(KeyRingError, match="256-bit"):
        KeyRing.load(bad)


async def test_reviews_started_under_an_old_key_keep_working_after_rotation(
    env: WorkflowEnvironment, settings: Settings, store: RecordsStore, ring_file: Path
) -> None:
    def connect(ring: KeyRing) -> Client:
        config = env.client.config()
        config["data_converter"] = data_converter(EncryptionCodec(ring))
        return Client(**config)

    old_ring = KeyRing.load(ring_file)
    before = connect(old_ring)
    settings = settings.model_copy(
        update={
            "key_file": ring_file,
            "chain_key_file": settings.chain_keys_path,
            "signing_key_file": settings.signing_keys_path,
        }
    )
    r = referral("persistent")
    async with new_worker(before, settings, store):
        await PeerReviewClient(before, settings).refer(r)
        await triaged(PeerReviewClient(before, settings), r.referral_id)

    new_key = KeyRing.add_key(ring_file)
    after = connect(KeyRing.load(ring_file))
    reviews = PeerReviewClient(after, settings)
    async with new_worker(after, settings, store):
        view = await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor="S100"))
        assert view.status == "awaiting_reviewer"
    history = await after.get_workflow_handle(f"peer-review-{r.referral_id}").fetch_history()
    assert _key_ids(json.loads(history.to_json())) == {old_ring.newest, new_key}


def _key_ids(node: object) -> set[str]:
    """The key id of every encrypted payload in a history's JSON form."""
    if isinstance(node, list):
        return set().union(*(_key_ids(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = set().union(*(_key_ids(value) for value in node.values())) if node else set()
    metadata = node.get("metadata")
    if isinstance(metadata, dict) and KEY_ID in metadata:
        found.add(base64.b64decode(metadata[KEY_ID]).decode())
    return found


async def test_codec_server_decodes_for_the_web_ui_and_refuses_strangers(ring_file: Path) -> None:
    codec = EncryptionCodec(KeyRing.load(ring_file))
    app = codec_app(codec, ["http://localhost:8233"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://codec") as http:
        body = json_format.MessageToJson(Payloads(payloads=[PLAIN]))
        encoded = await http.post("/encode", content=body)
        assert encoded.status_code == 200 and "private" not in encoded.text
        decoded = await http.post("/decode", content=encoded.text, headers={"Origin": "http://localhost:8233"})
        assert decoded.status_code == 200
        assert decoded.headers["access-control-allow-origin"] == "http://localhost:8233"
        assert json_format.Parse(decoded.text, Payloads()).payloads[0] == PLAIN
        elsewhere = await http.options(
            "/decode", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in elsewhere.headers
        assert (await http.post("/decode", content="not json")).status_code == 400


async def test_two_phase_rotation_stages_then_activates(ring_file: Path) -> None:
    first = KeyRing.load(ring_file).newest
    staged = KeyRing.add_key(ring_file, staged=True)
    ring = KeyRing.load(ring_file)
    assert ring.newest == first and staged in ring.keys  # staged: decrypts, does not encrypt yet
    [sealed] = await EncryptionCodec(ring).encode([PLAIN])
    assert sealed.metadata[KEY_ID].decode() == first
    KeyRing.activate(ring_file, staged)
    ring = KeyRing.load(ring_file)
    assert ring.newest == staged
    assert await EncryptionCodec(ring).decode([sealed]) == [PLAIN]
    assert stat.S_IMODE(ring_file.stat().st_mode) == 0o600
    with pytest.raises(KeyRingError, match="no key"):
        KeyRing.activate(ring_file, "missing")
