"""Drive reviews through the standard path, N at a time, timing the start call and the decision update.

Project: refer → approve → assign reviewer → submit findings → sign off, through PeerReviewClient, then
wait for the workflow to finish (records flushed). Bare twin: start → the same number of updates → finish.
Shaped twin: start with the review's start attributes → its updates, each input and header the size of the
review's → finish. All wait until the first workflow task has run (triage done / gate activity done) before the
decision, so the decision round trip measures a decision, not the start-up of the review.
"""

from __future__ import annotations

import abc
import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from temporalio.client import Client, WorkflowHandle

from benchmarks import shaped_twin
from benchmarks.shaped_twin import ShapedTwin, ShapedTwinWorkflow
from benchmarks.twin import READY_QUERY, STEP_UPDATE, BareTwinWorkflow, TwinPlan
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import (
    Decision,
    Findings,
    FindingsSubmission,
    Referral,
    ReviewerAssignment,
    Status,
    StatusView,
)
from peer_review.temporal.client import PeerReviewClient, workflow_id
from peer_review.temporal.proofs import with_sealed_headers

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOT_YET_TRIAGED = (Status.REFERRED, Status.TRIAGE)


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def standard_referral(referral_id: str, osn: str | None = None, customer: str | None = None) -> Referral:
    """The complex-issue example (in another OSN if given): not mandatory, so it waits for the Chair's decision.

    Given a `customer` reference, the referral is about a case of its own for that customer, as a department's
    referrals are; without one, it is the example's case and customer, like every other such referral."""
    data = {**example("referral-complex-issue.json"), "referral_id": referral_id}
    if customer:
        data = {**data, "case_reference": f"CMP-{referral_id}", "customer": {**data["customer"], "reference": customer}}
    return Referral.model_validate({**data, "osn": osn} if osn else data)


@dataclass
class Timings:
    start: list[float] = field(default_factory=list)
    decision: list[float] = field(default_factory=list)
    lifecycle: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    label: str
    reviews: int
    concurrency: int
    wall_seconds: float
    timings: Timings
    workflow_ids: list[str]

    @property
    def completed(self) -> int:
        return len(self.timings.lifecycle)

    @property
    def per_second(self) -> float:
        return self.completed / self.wall_seconds if self.wall_seconds > 0 else 0.0


class Driver(Protocol):
    label: str

    async def review(self, index: int, timings: Timings) -> str:
        """Run one review through the whole path and return its workflow id."""
        ...


async def until(check: Callable[[], Awaitable[bool]], within: float = 60.0) -> None:
    """Poll with a short back-off: quick to notice, light on the worker under load."""
    delay = 0.005
    async with asyncio.timeout(within):
        while not await check():
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)


async def timed(samples: list[float], call: Awaitable[Any]) -> None:
    began = time.perf_counter()
    await call
    samples.append(time.perf_counter() - began)


class ProjectDriver:
    label = "project"

    def __init__(self, reviews: PeerReviewClient, prefix: str) -> None:
        self.reviews = reviews
        self.prefix = prefix
        self.findings = Findings.model_validate(example("findings.json"))

    async def review(self, index: int, timings: Timings) -> str:
        referral = standard_referral(f"{self.prefix}-{index}")
        ref = referral.referral_id
        await timed(timings.start, self.reviews.refer(referral))
        await until(self._triaged(ref))
        await timed(timings.decision, self.reviews.act(ref, ActionName.APPROVE, Decision(actor="S100", rationale="ok")))
        await self.reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor="S100", reviewer="S400"))
        await self.reviews.act(
            ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor="S400", findings=self.findings)
        )
        await self.reviews.act(ref, ActionName.SIGN_OFF, Decision(actor="S100"))
        await self.reviews.client.get_workflow_handle(workflow_id(ref), result_type=StatusView).result()
        return workflow_id(ref)

    def _triaged(self, ref: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return (await self.reviews.status(ref)).status not in NOT_YET_TRIAGED

        return check


class _TwinDriverBase(abc.ABC):
    """A twin's path: start it, wait until its first workflow task has run, send its updates one after another
    (timing the first, the decision's stand-in), and wait for it to finish."""

    label: str
    ready_query: str

    def __init__(self, client: Client, task_queue: str, prefix: str) -> None:
        self.client = client
        self.task_queue = task_queue
        self.prefix = prefix

    @abc.abstractmethod
    async def start(self, wid: str) -> WorkflowHandle[Any, Any]:
        """Start this twin's workflow with the id `wid`."""

    @abc.abstractmethod
    def updates(self, handle: WorkflowHandle[Any, Any]) -> Iterator[Awaitable[Any]]:
        """Each update in turn, made only when the one before has been answered."""

    async def review(self, index: int, timings: Timings) -> str:
        wid = f"{self.prefix}-{index}"
        began = time.perf_counter()
        handle = await self.start(wid)
        timings.start.append(time.perf_counter() - began)
        await _until_ready(handle, self.ready_query)
        for step, update in enumerate(self.updates(handle)):
            await (timed(timings.decision, update) if step == 0 else update)
        await handle.result()
        return wid


async def _until_ready(handle: WorkflowHandle[Any, Any], query: str) -> None:
    async def ready() -> bool:
        answer: bool = await handle.query(query, result_type=bool)
        return answer

    await until(ready)


class TwinDriver(_TwinDriverBase):
    label = "twin"
    ready_query = READY_QUERY

    def __init__(self, client: Client, task_queue: str, plan: TwinPlan, prefix: str) -> None:
        super().__init__(client, task_queue, prefix)
        self.plan = plan

    async def start(self, wid: str) -> WorkflowHandle[Any, Any]:
        return await self.client.start_workflow(BareTwinWorkflow.run, self.plan, id=wid, task_queue=self.task_queue)

    def updates(self, handle: WorkflowHandle[Any, Any]) -> Iterator[Awaitable[Any]]:
        return (handle.execute_update(STEP_UPDATE, result_type=int) for _ in range(self.plan.updates))


class ShapedTwinDriver(_TwinDriverBase):
    label = "shaped"
    ready_query = shaped_twin.READY_QUERY

    def __init__(self, client: Client, task_queue: str, twin: ShapedTwin, prefix: str) -> None:
        # Headers sealed by the codec, as PeerReviewClient's are, with padding where its proofs go.
        padding = shaped_twin.HeaderPadding(client.data_converter.payload_converter)
        super().__init__(with_sealed_headers(client, padding), task_queue, prefix)
        self.twin = twin

    async def start(self, wid: str) -> WorkflowHandle[Any, Any]:
        with shaped_twin.padded_headers(self.twin.start_header_chars):
            return await self.client.start_workflow(
                ShapedTwinWorkflow.run,
                self.twin.plan,
                id=wid,
                task_queue=self.task_queue,
                search_attributes=shaped_twin.start_attributes(self.twin.start_attributes, datetime.now(UTC)),
            )

    def updates(self, handle: WorkflowHandle[Any, Any]) -> Iterator[Awaitable[Any]]:
        sizes = zip(self.twin.update_input_chars, self.twin.update_header_chars, strict=True)
        return (self._update(handle, input_chars, header_chars) for input_chars, header_chars in sizes)

    async def _update(self, handle: WorkflowHandle[Any, Any], input_chars: int, header_chars: int) -> str:
        with shaped_twin.padded_headers(header_chars):
            result: str = await handle.execute_update(shaped_twin.STEP_UPDATE, "x" * input_chars, result_type=str)
            return result


async def run_many(driver: Driver, reviews: int, concurrency: int) -> RunResult:
    """`reviews` lifecycles with at most `concurrency` in flight; wall time from first start to last finish."""
    timings = Timings()
    ids: list[str] = []
    queue = iter(range(reviews))

    async def lane() -> None:
        for index in queue:
            began = time.perf_counter()
            try:
                ids.append(await driver.review(index, timings))
            except Exception as error:  # a failed review is counted and shown, never hidden
                timings.errors.append(f"{type(error).__name__}: {error}")
                continue
            timings.lifecycle.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(min(concurrency, reviews))))
    wall = time.perf_counter() - began
    return RunResult(driver.label, reviews, concurrency, wall, timings, ids)
