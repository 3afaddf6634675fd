"""The worker's Prometheus endpoint: the SDK's metrics and the business counters after a real run."""

from __future__ import annotations

import re
import socket

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import ActionRejected, PeerReviewClient
from peer_review.temporal.metrics import prometheus_runtime
from tests.helpers import TEST_CONVERTER, new_worker, referral, triaged


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def value(metrics: str, name: str, **labels: str) -> float:
    """The sum of every sample of `name` whose labels include `labels`."""
    total = 0.0
    for line in metrics.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            total += float(match.group(2))
    return total


async def test_business_and_sdk_metrics_are_served(
    env: WorkflowEnvironment, settings: Settings, store: RecordsStore
) -> None:
    port = free_port()
    client = await Client.connect(
        env.client.service_client.config.target_host,
        data_converter=TEST_CONVERTER,
        runtime=prometheus_runtime(port),
    )
    reviews = PeerReviewClient(client, settings)
    r = referral("persistent")
    async with new_worker(client, settings, store):
        await reviews.refer(r)
        await triaged(reviews, r.referral_id)
        with pytest.raises(ActionRejected):
            await reviews.act(r.referral_id, ActionName.APPROVE, Decision(actor="S400"))
        await reviews.act(r.referral_id, ActionName.DECLINE, Decision(actor="S100", rationale="Handled"))
        await client.get_workflow_handle(f"peer-review-{r.referral_id}").result()
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text

    assert value(metrics, "peer_review_reviews_started", reason="persistent_or_vexatious", level="unit") == 1
    assert value(metrics, "peer_review_transitions", to_status="closed") == 1
    assert value(metrics, "peer_review_decisions", decision="decline") == 1
    assert value(metrics, "peer_review_rejected_actions", action="approve", kind="NotPermitted") == 1
    assert value(metrics, "peer_review_record_latency_count") >= 1
    assert value(metrics, "peer_review_record_latency_bucket", le="5") >= 1  # seconds, not milliseconds
    assert value(metrics, "temporal_workflow_completed", workflow_type="PeerReviewWorkflow") == 1
    assert r.referral_id not in metrics and "S100" not in metrics  # labels carry no ids
