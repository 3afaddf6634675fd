"""A client with the real worker running on the test's queue, and settings for the time-skipping server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from tests.helpers import new_worker, skipping_reviews, worker_settings


@pytest.fixture
async def reviews(client: Client, settings: Settings, store: RecordsStore) -> AsyncIterator[PeerReviewClient]:
    """A client on the test's own queue, with the real worker serving it for the whole test."""
    async with new_worker(client, settings, store):
        yield PeerReviewClient(client, settings)


@pytest.fixture
def skipping_settings(skipping_env: WorkflowEnvironment, tmp_path: Path) -> Settings:
    return worker_settings(tmp_path)


@pytest.fixture
async def time_skipping_reviews(
    skipping_env: WorkflowEnvironment, skipping_settings: Settings, store: RecordsStore
) -> AsyncIterator[PeerReviewClient]:
    """`reviews` on the time-skipping server: a client with the real worker serving it for the whole test."""
    async with new_worker(skipping_env.client, skipping_settings, store):
        yield skipping_reviews(skipping_env, skipping_settings)
