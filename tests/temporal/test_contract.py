"""The public contract: any Temporal client can read a review with plain JSON, given the codec endpoint, but only
a request carrying proof of the acting person can act.

Here the `temporal` CLI (Go), not this project's Python client, reads a review's status and tries to act on it.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, Status
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.codec_server import serve_codec
from tests.helpers import new_worker, referral, triaged, venv_binary
from tests.helpers.reviews import settle


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def temporal(env: WorkflowEnvironment, codec: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        venv_binary("temporal"),
        *args,
        "--address",
        env.client.service_client.config.target_host,
        "--codec-endpoint",
        codec,
        "--output",
        "json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


async def test_the_temporal_cli_can_read_a_review_but_not_act_on_it(
    env: WorkflowEnvironment, settings: Settings, store: RecordsStore, tmp_path: Path
) -> None:
    """Anyone with namespace access and the codec server can query a review; without a proof of the acting person
    (which only the service's own tooling can make) an update is refused and a signal dropped, changing nothing."""
    settings = settings.model_copy(update={"codec_port": free_port()})
    codec = f"http://127.0.0.1:{settings.codec_port}"
    stop = asyncio.Event()
    server = asyncio.create_task(serve_codec(settings, stop))
    reviews = PeerReviewClient(env.client, settings)
    r = referral("persistent")
    try:
        async with new_worker(env.client, settings, store):
            await reviews.refer(r)
            before = await triaged(reviews, r.referral_id)
            await settle(reviews, store, r.referral_id)
            trail_before = await reviews.audit_trail(r.referral_id)
            wid = f"peer-review-{r.referral_id}"
            approve = ("workflow", "update", "execute", "--workflow-id", wid, "--name", "approve", "--input")
            code, output = await temporal(env, codec, *approve, json.dumps({"actor": "S100", "rationale": "From Go"}))
            assert code != 0 and "no valid proof of the acting person" in output, output
            signal = ("workflow", "signal", "--workflow-id", wid, "--name")
            decision = json.dumps({"actor": "S100", "decision": "approve"})
            code, output = await temporal(env, codec, *signal, "chair_decision", "--input", decision)
            assert code == 0, output  # the server takes any signal; the worker drops it
            # The signal that once let any client write a refusal into the record is gone: nothing handles it.
            forged = json.dumps({"actor": "S100", "action": "x" * 64, "kind": "", "reason": "forged"})
            code, output = await temporal(env, codec, *signal, "refused_action", "--input", forged)
            assert code == 0, output
            code, output = await temporal(env, codec, "workflow", "query", "--workflow-id", wid, "--name", "status")
            assert code == 0 and '"chair": "S100"' in output.replace('":"', '": "')
            assert await reviews.status(r.referral_id) == before
            assert await reviews.audit_trail(r.referral_id) == trail_before
            # The review is neither changed nor wedged: a proven approval still goes through, alone in the record.
            view = await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor="S100"))
            assert view.status is Status.AWAITING_REVIEWER
            added = (await reviews.audit_trail(r.referral_id))[len(trail_before) :]
            assert [e.action for e in added if e.actor != "system"] == ["approve"]
            assert not [e for e in added if "forged" in (e.detail or "") or "Go" in (e.detail or "")]
    finally:
        stop.set()
        await server
