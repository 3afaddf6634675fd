"""Two workflows for tests/temporal/test_sandbox.py: one keeps module state, one reads the wall clock (which the
sandbox forbids). Module-level state here is deliberate: each workflow must see its own copy of it."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

STARTED: list[str] = []


@workflow.defn
class CountsStarts:
    @workflow.run
    async def run(self) -> int:
        STARTED.append(workflow.info().workflow_id)
        return len(STARTED)


@workflow.defn(failure_exception_types=[RestrictedWorkflowAccessError])
class ReadsTheClock:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()


@workflow.defn
class EchoesThroughAnActivity:
    @workflow.run
    async def run(self, text: str) -> str:
        return str(await workflow.execute_activity("echo", text, start_to_close_timeout=timedelta(seconds=10)))
