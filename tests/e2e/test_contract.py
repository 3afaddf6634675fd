"""The public contract: any Temporal client can drive a review with plain JSON, given the codec endpoint.

Here the `temporal` CLI (Go), not this project's Python client, approves a review and reads its status.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.codec_server import serve_codec
from tests.helpers import new_worker, referral, triaged, venv_binary


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


async def test_the_temporal_cli_drives_a_review_through_the_codec_server(
    env: WorkflowEnvironment, settings: Settings, store: RecordsStore, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"codec_port": free_port()})
    codec = f"http://127.0.0.1:{settings.codec_port}"
    stop = asyncio.Event()
    server = asyncio.create_task(serve_codec(settings, stop))
    reviews = PeerReviewClient(env.client, settings)
    r = referral("persistent")
    try:
        async with new_worker(env.client, settings, store):
            await reviews.refer(r)
            await triaged(reviews, r.referral_id)
            wid = f"peer-review-{r.referral_id}"
            approve = ("workflow", "update", "execute", "--workflow-id", wid, "--name", "approve", "--input")
            code, output = await temporal(env, codec, *approve, json.dumps({"actor": "S100", "rationale": "From Go"}))
            assert code == 0, output
            assert '"awaiting_reviewer"' in output
            code, output = await temporal(env, codec, *approve, json.dumps({"actor": "S100"}))
            assert code != 0 and "cannot approve a review that is awaiting_reviewer" in output
            code, output = await temporal(env, codec, "workflow", "query", "--workflow-id", wid, "--name", "status")
            assert code == 0 and '"chair": "S100"' in output.replace('":"', '": "')
    finally:
        stop.set()
        await server
