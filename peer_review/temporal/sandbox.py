"""The workflow sandbox the worker and the replayer run workflows in.

It is the SDK's SandboxedWorkflowRunner with its default restrictions: every workflow module is imported afresh for
each workflow and runs under the same determinism guard. The one difference is how the runner enters the sandbox.
The SDK does so by `exec` of a few lines of source, once per activation and several times per payload (to ask the
workflow which serialization context a payload belongs to), and `exec` of source compiles it every time: about 8 %
of the worker's CPU at 50 reviews in flight (benchmarks/PERFORMANCE.md). Here those lines are compiled once per
process and the same code object is executed each time, with the same globals, in the same sandbox.

`_Instance` is the SDK's private class for one sandboxed workflow (temporalio is pinned in pyproject.toml);
tests/temporal/test_sandbox.py fails if it no longer enters the sandbox through `_run_code`.
"""

from __future__ import annotations

import functools
from types import CodeType
from typing import Any

from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _Instance


@functools.lru_cache(maxsize=64)
def compiled(source: str) -> CodeType:
    """The code of one of the runner's glue snippets (a handful of distinct strings per workflow class)."""
    return compile(source, "<workflow sandbox>", "exec")


class _CompiledOnceInstance(_Instance):
    def _run_code(self, code: str, **extra_globals: Any) -> None:
        # exec() takes a code object where the SDK passes source; the statements and globals are unchanged.
        super()._run_code(compiled(code), **extra_globals)  # type: ignore[arg-type]


class CompiledOnceSandbox(SandboxedWorkflowRunner):
    """SandboxedWorkflowRunner (same restrictions, same per-workflow imports) that compiles its glue code once."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _CompiledOnceInstance(det, self.runner_class, self.restrictions)


def workflow_runner() -> CompiledOnceSandbox:
    """The runner for every worker and replayer of the service (and the benchmark's twins, for a fair comparison)."""
    return CompiledOnceSandbox()
