"""The worker's workflow runner (peer_review.temporal.sandbox) is the SDK's sandbox: a fresh module per workflow and
the same determinism guard; only its glue code is compiled once."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from peer_review.temporal.sandbox import compiled, workflow_runner
from tests.temporal.sandbox_probe import CountsStarts, ReadsTheClock


async def test_each_workflow_gets_its_own_modules_and_the_glue_is_compiled_once(client: Client) -> None:
    queue = f"tq-{uuid.uuid4()}"
    before = compiled.cache_info()
    async with Worker(client, task_queue=queue, workflows=[CountsStarts], workflow_runner=workflow_runner()):
        counts = [
            await client.execute_workflow(CountsStarts.run, id=f"counts-{n}-{uuid.uuid4()}", task_queue=queue)
            for n in range(3)
        ]
    # The module is imported afresh for each workflow (and evicted with it): no workflow sees another's state.
    assert counts == [1, 1, 1]
    after = compiled.cache_info()
    assert after.hits > before.hits, "the runner no longer enters the sandbox through _run_code"
    # A handful of distinct snippets per workflow class: the cache holds them all and never has to drop one.
    assert after.currsize < 64


async def test_the_determinism_guard_still_refuses_the_wall_clock(client: Client) -> None:
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[ReadsTheClock], workflow_runner=workflow_runner()):
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(ReadsTheClock.run, id=f"clock-{uuid.uuid4()}", task_queue=queue)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "RestrictedWorkflowAccessError"
