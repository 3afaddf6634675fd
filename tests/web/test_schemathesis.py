"""Property-based: requests generated from docs/openapi.json never get a 5xx, and every answer matches it.

Runs against a live server (uvicorn and a worker on their own loop, see support.LiveServer) because the
generated tests are synchronous and would otherwise stall the session's event loop. Bounded to 50
examples per operation so it stays well under a minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.testing import WorkflowEnvironment

from peer_review.web import openapi as docs
from tests.helpers.staff import REFERRER
from tests.helpers.web import LiveServer, api_settings, settings_for, token

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 50, "deterministic": True},
        # The coverage phase enumerates every boundary of every field (thousands of requests); the fuzzing
        # phase with 50 examples per operation finds the same classes of problems in a bounded time.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)


@pytest.fixture(scope="module")
def live_api(env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    target = env.client.service_client.config.target_host
    with LiveServer(settings_for(target, tmp_path_factory.mktemp("schemathesis")), api_settings()) as server:
        yield server


# Loaded at import from the same document as docs/openapi.json; the live server's address comes per test.
schema = schemathesis.openapi.from_dict(json.loads(docs.documents()["openapi.json"]), config=CONFIG)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_document(case: schemathesis.Case[Any], live_api: LiveServer) -> None:
    # The referrer's token: generated referrals are made in someone else's name (403) or invalid (422).
    case.call_and_validate(
        base_url=live_api.url,
        headers={"Authorization": f"Bearer {token(REFERRER)}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
        timeout=30,
    )
