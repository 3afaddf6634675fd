"""The workflow sandbox the worker and the replayer run workflows in.

It is the SDK's SandboxedWorkflowRunner with its default restrictions: every workflow module is imported afresh for
each workflow and runs under the same determinism guard. The one difference is how the runner enters the sandbox.
The SDK does so by `exec` of a few lines of source, once per activation and several times per payload (to ask the
workflow which serialization context a payload belongs to), and `exec` of source compiles it every time: about 8 %
of the worker's CPU at 50 reviews in flight (benchmarks/PERFORMANCE.md). Here those lines are compiled once per
process and the same code object is executed each time, with the same globals, in the same sandbox.

The runner also skips a question whose answer cannot matter. Around every activation the SDK asks the workflow, once
per payload and pass (three passes to decode, three to encode), which serialization context and which external-store
context the payload belongs to, entering the sandbox each time: about 5 % of the worker's CPU. The answer only picks
a converter for the payload, and the service's converter ignores both contexts (pydantic JSON and a codec keyed by
its own key ring, with no external storage), so every answer picks the same one. When the worker's converter is
like that (`ignores_context`), the instance answers "no context" without entering the sandbox; with any converter
that uses a context, it asks the workflow as the SDK does.

`_Instance` is the SDK's private class for one sandboxed workflow (temporalio is pinned in pyproject.toml);
tests/temporal/test_sandbox.py fails if it no longer enters the sandbox through `_run_code`, or if a converter that
uses contexts stops getting them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import CodeType
from typing import Any

from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    WorkflowSerializationContext,
)
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance

# One context of each kind a workflow's payloads are given: a converter that returns itself for these ignores them.
_SAMPLE_CONTEXTS: tuple[SerializationContext, ...] = (
    WorkflowSerializationContext(namespace="default", workflow_id="sample"),
    ActivitySerializationContext(
        namespace="default",
        workflow_id="sample",
        workflow_type="Sample",
        activity_type="sample",
        activity_task_queue="sample",
        is_local=False,
        activity_id="1",
    ),
)


def ignores_context(converter: DataConverter) -> bool:
    """Whether `converter` converts every payload the same way whatever its context: it keeps no external storage,
    and `with_context` gives back the converter itself (what the SDK does when no part of it uses the context)."""
    return converter.external_storage is None and all(
        converter.with_context(context) is converter for context in _SAMPLE_CONTEXTS
    )


@functools.lru_cache(maxsize=64)
def compiled(source: str) -> CodeType:
    """The code of one of the runner's glue snippets (a handful of distinct strings per workflow class)."""
    return compile(source, "<workflow sandbox>", "exec")


class _CompiledOnceInstance(_Instance):
    def _run_code(self, code: str, **extra_globals: Any) -> None:
        # exec() takes a code object where the SDK passes source; the statements and globals are unchanged.
        super()._run_code(compiled(code), **extra_globals)  # type: ignore[arg-type]


class _ContextFreeInstance(_CompiledOnceInstance):
    """For a converter that ignores contexts: "no context" is as good an answer as the workflow's, and costs no
    entry into the sandbox."""

    def get_serialization_context(self, command_info: CommandInfo | None) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info: CommandInfo | None) -> StorageDriverStoreContext:
        return StorageDriverStoreContext(target=None)


@dataclass(frozen=True)
class CompiledOnceSandbox(SandboxedWorkflowRunner):
    """SandboxedWorkflowRunner (same restrictions, same per-workflow imports) that compiles its glue code once and,
    when `context_free`, answers the payload-context questions without entering the sandbox."""

    context_free: bool = False

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        instance = _ContextFreeInstance if self.context_free else _CompiledOnceInstance
        return instance(det, self.runner_class, self.restrictions)


def workflow_runner(converter: DataConverter) -> CompiledOnceSandbox:
    """The runner for every worker and replayer of the service (and the benchmark's twins, for a fair comparison),
    given the data converter the worker or replayer uses."""
    return CompiledOnceSandbox(context_free=ignores_context(converter))
