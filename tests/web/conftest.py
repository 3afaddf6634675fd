from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.web.app import create_app
from tests.helpers import new_worker
from tests.helpers.web import api_settings


@pytest.fixture
async def http(client: Client, settings: Settings, store: RecordsStore) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process (ASGI) over the session's dev server, with a real worker on this test's queue."""
    app = create_app(settings, api_settings(), reviews=PeerReviewClient(client, settings), store=store)
    async with new_worker(client, settings, store):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as session:
            yield session
