"""The shaped twin: a review's Temporal-visible work with no domain logic, a fair ceiling for the project.

The bare twin (benchmarks/twin.py) has the review's activities, updates and timers only. The shaped twin
also has its search-attribute upserts (the same attributes, at the same steps), its `patched` markers, the
start's search attributes, payloads of the same sizes through the same converter and codec, headers of the
sizes of the review's proofs (sealed by the codec, as the project's are), on the same task queues and worker
settings, and its child workflows: a review starts one workflow per recommendation
at sign-off, which does its first step and then waits for the owner; the twin starts as many twins of
those, shaped from their own histories, which wait the same way. Everything comes from real histories
(benchmarks/shape.py), so when the review changes, the twin follows. What it lacks is only the project's
own work: domain rules, workflow state, records database writes, notification composing.

Each step mirrors the review's: the look-ups the review waited for are awaited (by the run in step 0, by the
update in step k), side effects run beside and are awaited before the end, and the step waits for the next
update under as many timers as the review started in it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)
from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate, TypedSearchAttributes
from temporalio.converter import DataConverter, PayloadConverter
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from benchmarks.shape import ReviewShape
    from peer_review.temporal.search_attributes import ALL as ATTRIBUTES

SHAPED_ACTIVITY = "shaped_twin_activity"
STEP_UPDATE = "step"
READY_QUERY = "ready"
# Far beyond any benchmark: a timer is started and cancelled, never fired.
DEADLINE = timedelta(days=7)
ACTIVITY_TIMEOUT = timedelta(seconds=30)
# An activity's input is "<result length>:<padding>", so one activity serves every size.
SEPARATOR = ":"
# The header the twin's client sends where the project's sends its proof of the person acting: as many bytes once
# sealed, under a name of its own (nothing checks it; verifying a proof is the project's own work).
PADDING_HEADER = "shaped-twin-padding"
_header_chars: ContextVar[int] = ContextVar("shaped_twin_header_chars", default=0)

# (index into ShapedPlan.queues, input characters, result characters)
Call = tuple[int, int, int]


@dataclass(frozen=True)
class ShapedStep:
    awaited: list[Call]
    beside: list[Call]
    upserts: list[list[int]]  # per upsert, indexes into peer_review.temporal.search_attributes.ALL
    timers: int
    result_chars: int
    children: list[ChildPlan] = field(default_factory=list)  # started all at once, beside the step


@dataclass(frozen=True)
class ChildPlan:
    plan: ShapedPlan
    start_attributes: list[str]


@dataclass(frozen=True)
class ShapedPlan:
    """The workflow's input: compact, then padded to the review's start input size."""

    queues: list[str]
    patches: int
    steps: list[ShapedStep]
    result_chars: int
    pad: str = ""

    @property
    def updates(self) -> int:
        return len(self.steps) - 1


@dataclass(frozen=True)
class ShapedTwin:
    """What the driver needs beside the plan: the start attributes and each update's input size."""

    plan: ShapedPlan
    start_attributes: list[str]
    update_input_chars: list[int]
    start_header_chars: int
    update_header_chars: list[int]
    shape: ReviewShape


def attribute_value(key: SearchAttributeKey[Any], now: Any) -> Any:
    """A value of the attribute's type; the twin's values are never searched for."""
    kind = key.indexed_value_type.name
    if kind.endswith("KEYWORD_LIST"):
        return ["twin"]
    if kind.endswith("BOOL"):
        return False
    if kind.endswith("DATETIME"):
        return now
    if kind.endswith("INT"):
        return 0
    if kind.endswith("DOUBLE"):
        return 0.0
    return "twin"


def start_attributes(names: Sequence[str], now: Any) -> TypedSearchAttributes:
    keys = {key.name: key for key in ATTRIBUTES}
    return TypedSearchAttributes(
        [SearchAttributePair(keys[name], attribute_value(keys[name], now)) for name in names if name in keys]
    )


async def _encoded_size(converter: DataConverter, value: Any) -> int:
    payloads = await converter.encode([value])
    return len(payloads[0].data)


async def _fit(converter: DataConverter, target: int, build: Callable[[int], Any]) -> int:
    """The padding length n for which `build(n)` encodes (converter and codec) to `target` bytes, or near it."""
    chars = max(target - await _encoded_size(converter, build(0)), 0)
    # The protobuf length prefix can grow by a byte as the payload grows: correct once or twice.
    for _ in range(3):
        size = await _encoded_size(converter, build(chars))
        if size == target or (chars == 0 and size > target):
            break
        chars = max(chars + target - size, 0)
    return chars


async def chars_for(converter: DataConverter, target: int, prefix: str = "") -> int:
    """Padding characters that make `prefix + padding` encode to `target` bytes (0 for no payload)."""
    if target <= 0:
        return 0
    return await _fit(converter, target, lambda chars: prefix + "x" * chars)


async def shaped_twin(shape: ReviewShape, converter: DataConverter) -> ShapedTwin:
    """Turn byte sizes into padding lengths through the converter the twin's client and worker use."""
    every = [shape, *shape.children.values()]
    queues = sorted({a.queue for one in every for step in one.steps for a in step.activities})
    plan = await _plan(shape, queues, converter)
    update_chars = [await chars_for(converter, step.update_input_bytes) for step in shape.steps[1:]]
    header_chars = [await chars_for(converter, step.update_header_bytes) for step in shape.steps[1:]]
    start_header = await chars_for(converter, shape.start_header_bytes)
    return ShapedTwin(plan, shape.start_attributes, update_chars, start_header, header_chars, shape)


@contextlib.contextmanager
def padded_headers(chars: int) -> Iterator[None]:
    """Starts and updates sent inside carry a padding header of `chars` characters (none for 0)."""
    token = _header_chars.set(chars)
    try:
        yield
    finally:
        _header_chars.reset(token)


class HeaderPadding(Interceptor):
    """The twin's client interceptor: adds the padding header to each start and update sent inside
    `padded_headers`, where the project's client (ProofAttacher) adds a proof."""

    def __init__(self, converter: PayloadConverter) -> None:
        self.converter = converter

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Padding(next, self.converter)


class _Padding(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, converter: PayloadConverter) -> None:
        super().__init__(next)
        self.converter = converter

    def _padded(self, headers: Any) -> Any:
        chars = _header_chars.get()
        return {**headers, PADDING_HEADER: self.converter.to_payload("h" * chars)} if chars else headers

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.headers = self._padded(input.headers)
        return await super().start_workflow(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        input.headers = self._padded(input.headers)
        return await super().start_workflow_update(input)


async def _plan(shape: ReviewShape, queues: list[str], converter: DataConverter) -> ShapedPlan:
    index = {key.name: position for position, key in enumerate(ATTRIBUTES)}
    steps = []
    for step in shape.steps:
        calls: list[tuple[bool, Call]] = []
        for a in step.activities:
            result_chars = await chars_for(converter, a.result_bytes)
            input_chars = await chars_for(converter, a.input_bytes, f"{result_chars}{SEPARATOR}")
            calls.append((a.awaited, (queues.index(a.queue), input_chars, result_chars)))
        started = [shape.children[child] for child in step.child_ids if child in shape.children]
        children = [ChildPlan(await _plan(child, queues, converter), child.start_attributes) for child in started]
        steps.append(
            ShapedStep(
                awaited=[call for awaited, call in calls if awaited],
                beside=[call for awaited, call in calls if not awaited],
                upserts=[[index[name] for name in names if name in index] for names in step.upserts],
                timers=step.timers,
                result_chars=await chars_for(converter, step.update_result_bytes),
                children=children,
            )
        )
    if shape.open:
        steps.append(ShapedStep([], [], [], 0, 0))  # the action it waits for, which never comes
    plan = ShapedPlan(queues, shape.patches, steps, await chars_for(converter, shape.result_bytes))
    pad = await _fit(converter, shape.start_input_bytes, lambda chars: replace(plan, pad="x" * chars))
    return replace(plan, pad="x" * pad)


@activity.defn(name=SHAPED_ACTIVITY)
async def shaped_activity(request: str) -> str:
    result_chars = int(request.partition(SEPARATOR)[0] or 0)
    return "r" * result_chars


@workflow.defn
class ShapedTwinWorkflow:
    @workflow.init
    def __init__(self, plan: ShapedPlan) -> None:
        self._plan = plan
        self._step = 0
        self._ready = False
        self._in_flight = 0

    @workflow.run
    async def run(self, plan: ShapedPlan) -> str:
        for patch in range(plan.patches):
            workflow.patched(f"shaped-twin-{patch}")
        first = plan.steps[0]
        self._beside(first.beside)
        self._start_children(first.children)
        for call in first.awaited:
            await self._call(call)
        self._upsert(first.upserts)
        self._ready = True
        for step in range(1, len(plan.steps)):
            await self._wait(self._reached(step), plan.steps[step - 1].timers)
        await self._wait(lambda: self._in_flight == 0 and workflow.all_handlers_finished(), plan.steps[-1].timers)
        return "z" * plan.result_chars

    @workflow.update(name=STEP_UPDATE)
    async def step(self, pad: str) -> str:
        await workflow.wait_condition(lambda: self._ready)
        number = self._step + 1
        spec = self._plan.steps[number] if number < len(self._plan.steps) else ShapedStep([], [], [], 0, 0)
        for call in spec.awaited:
            await self._call(call)
        self._upsert(spec.upserts)
        self._step = number
        self._beside(spec.beside)
        self._start_children(spec.children)
        return "u" * spec.result_chars

    @workflow.query(name=READY_QUERY)
    def ready(self) -> bool:
        return self._ready

    def _reached(self, step: int) -> Callable[[], bool]:
        return lambda: self._step >= step

    async def _wait(self, condition: Callable[[], bool], timers: int) -> None:
        """Wait under `timers` timers, as the review waits for its next action under its deadline timers."""
        if timers == 0:
            await workflow.wait_condition(condition)
            return
        extra = [asyncio.create_task(asyncio.sleep(DEADLINE.total_seconds())) for _ in range(timers - 1)]
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(condition, timeout=DEADLINE)
        for timer in extra:
            timer.cancel()

    def _upsert(self, upserts: list[list[int]]) -> None:
        for indexes in upserts:
            updates: list[SearchAttributeUpdate[Any]] = [
                ATTRIBUTES[i].value_set(attribute_value(ATTRIBUTES[i], workflow.now())) for i in indexes
            ]
            if updates:
                workflow.upsert_search_attributes(updates)

    async def _call(self, call: Call) -> None:
        queue, input_chars, result_chars = call
        request = f"{result_chars}{SEPARATOR}" + "x" * input_chars
        await workflow.execute_activity(
            SHAPED_ACTIVITY,
            request,
            result_type=str,
            task_queue=workflow.info().task_queue + self._plan.queues[queue],
            start_to_close_timeout=ACTIVITY_TIMEOUT,
        )

    def _beside(self, calls: list[Call]) -> None:
        for call in calls:
            self._in_flight += 1
            asyncio.create_task(self._background(call))  # noqa: RUF006 - tracked by the in-flight count

    async def _background(self, call: Call) -> None:
        try:
            await self._call(call)
        finally:
            self._in_flight -= 1

    def _start_children(self, children: list[ChildPlan]) -> None:
        if children:
            self._in_flight += 1
            asyncio.create_task(self._children(children))  # noqa: RUF006 - tracked by the in-flight count

    async def _children(self, children: list[ChildPlan]) -> None:
        """Start the children all at once and wait for them to have started, as the review does; never wait for
        them to end."""
        try:
            await asyncio.gather(
                *(
                    workflow.start_child_workflow(
                        ShapedTwinWorkflow.run,
                        child.plan,
                        id=f"{workflow.info().workflow_id}-C{self._step}-{number}",
                        search_attributes=start_attributes(child.start_attributes, workflow.now()),
                        parent_close_policy=ParentClosePolicy.ABANDON,
                    )
                    for number, child in enumerate(children, start=1)
                )
            )
        finally:
            self._in_flight -= 1
