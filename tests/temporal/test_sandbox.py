"""The worker's workflow runner (peer_review.temporal.sandbox) is the SDK's sandbox: a fresh module per workflow and
the same determinism guard; only its glue code is compiled once, and a converter that ignores payload contexts is
not asked for them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox._runner import _Instance

from peer_review.temporal.converter import encrypted_converter
from peer_review.temporal.sandbox import compiled, ignores_context, workflow_runner
from tests.helpers import TEST_KEY_FILE
from tests.temporal.sandbox_probe import CountsStarts, EchoesThroughAnActivity, ReadsTheClock


async def test_each_workflow_gets_its_own_modules_and_the_glue_is_compiled_once(client: Client) -> None:
    queue = f"tq-{uuid.uuid4()}"
    before = compiled.cache_info()
    runner = workflow_runner(client.data_converter)
    async with Worker(client, task_queue=queue, workflows=[CountsStarts], workflow_runner=runner):
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
    runner = workflow_runner(client.data_converter)
    async with Worker(client, task_queue=queue, workflows=[ReadsTheClock], workflow_runner=runner):
        with pytest.raises(WorkflowFailureError) as failed:
            await client.execute_workflow(ReadsTheClock.run, id=f"clock-{uuid.uuid4()}", task_queue=queue)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "RestrictedWorkflowAccessError"


class ContextNotingCodec(PayloadCodec, WithSerializationContext):
    """Passes payloads through and notes the context it was given for each batch it encodes."""

    def __init__(self, noted: list[SerializationContext | None], context: SerializationContext | None = None) -> None:
        self.noted = noted
        self.context = context

    def with_context(self, context: SerializationContext) -> ContextNotingCodec:
        return ContextNotingCodec(self.noted, context)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.noted.append(self.context)
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


@activity.defn(name="echo")
async def echo(text: str) -> str:
    return text


def test_which_converters_ignore_context() -> None:
    assert ignores_context(encrypted_converter(TEST_KEY_FILE))
    assert ignores_context(pydantic_data_converter)
    assert not ignores_context(dataclasses.replace(pydantic_data_converter, payload_codec=ContextNotingCodec([])))


async def run_echo(client: Client, converter: DataConverter, monkeypatch: pytest.MonkeyPatch) -> int:
    """Runs EchoesThroughAnActivity under `converter`; returns how often the workflow was asked for a context."""
    asked = 0
    asks = _Instance.get_serialization_context

    def counted(self: _Instance, *args: Any) -> Any:
        nonlocal asked
        asked += 1
        return asks(self, *args)

    monkeypatch.setattr(_Instance, "get_serialization_context", counted)
    config = client.config()
    config["data_converter"] = converter
    own = Client(**config)
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        own,
        task_queue=queue,
        workflows=[EchoesThroughAnActivity],
        activities=[echo],
        workflow_runner=workflow_runner(converter),
    ):
        echoed = await own.execute_workflow(
            EchoesThroughAnActivity.run, "hello", id=f"echo-{uuid.uuid4()}", task_queue=queue
        )
    assert echoed == "hello"
    return asked


async def test_a_converter_that_ignores_context_is_not_asked_for_one(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await run_echo(client, encrypted_converter(TEST_KEY_FILE), monkeypatch) == 0


async def test_a_converter_that_uses_context_gets_each_payloads_own(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    noted: list[SerializationContext | None] = []
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=ContextNotingCodec(noted))
    assert await run_echo(client, converter, monkeypatch) > 0
    # The workflow's own payloads and the activity's input, each with the context the SDK gives it.
    activity_contexts = [c for c in noted if isinstance(c, ActivitySerializationContext)]
    assert activity_contexts and all(c.activity_type == "echo" for c in activity_contexts)
