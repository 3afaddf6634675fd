"""The bare twin: the standard path's shape in Temporal terms, with no domain logic.

It is parameterised with the numbers of activities, updates and timers counted in a real project history,
so project/twin throughput shows what the project costs on top of Temporal itself on the same machine.
Shape, mirrored from PeerReviewWorkflow: one activity gates the first update (the project's triage look-up);
every other activity runs beside the workflow (like records and notifications) and is awaited before it
completes; each update moves one step on; the last `timers` waiting steps each sit under a deadline timer
that the next update cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

TWIN_ACTIVITY = "bare_twin_noop"
STEP_UPDATE = "step"
READY_QUERY = "ready"
# Far beyond any benchmark: the timer must be started and cancelled, never fire.
DEADLINE = timedelta(days=7)
ACTIVITY_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class TwinPlan:
    activities: int
    updates: int
    timers: int

    def shares(self) -> list[int]:
        """Activities per phase (phase 0 is the start, phase i the i-th update), the gate excluded."""
        phases = self.updates + 1
        rest = max(self.activities - 1, 0)
        return [rest // phases + (1 if phase < rest % phases else 0) for phase in range(phases)]


@activity.defn(name=TWIN_ACTIVITY)
async def noop(value: int) -> int:
    return value


@workflow.defn
class BareTwinWorkflow:
    @workflow.init
    def __init__(self, plan: TwinPlan) -> None:
        self._plan = plan
        self._shares = plan.shares()
        self._step = 0
        self._ready = False
        self._in_flight = 0

    @workflow.run
    async def run(self, plan: TwinPlan) -> int:
        if plan.activities > 0:
            await self._activity(0)
        self._ready = True
        self._fire(self._shares[0])
        first_timed = plan.updates - min(plan.timers, plan.updates)
        for phase in range(plan.updates):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(self._past(phase), timeout=DEADLINE if phase >= first_timed else None)
        await workflow.wait_condition(lambda: self._in_flight == 0 and workflow.all_handlers_finished())
        return self._step

    @workflow.update(name=STEP_UPDATE)
    async def step(self) -> int:
        await workflow.wait_condition(lambda: self._ready)
        self._step += 1
        self._fire(self._shares[self._step] if self._step < len(self._shares) else 0)
        return self._step

    @workflow.query(name=READY_QUERY)
    def ready(self) -> bool:
        return self._ready

    def _past(self, phase: int) -> Callable[[], bool]:
        return lambda: self._step > phase

    async def _activity(self, value: int) -> None:
        await workflow.execute_activity(TWIN_ACTIVITY, value, result_type=int, start_to_close_timeout=ACTIVITY_TIMEOUT)

    def _fire(self, count: int) -> None:
        for _ in range(count):
            self._in_flight += 1
            asyncio.create_task(self._background())  # noqa: RUF006 - tracked by the in-flight count

    async def _background(self) -> None:
        try:
            await self._activity(self._step)
        finally:
            self._in_flight -= 1
