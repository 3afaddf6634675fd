"""A review's Temporal-visible shape, read from its history: what the shaped twin has to reproduce.

Steps: step 0 runs from the start to the first update, step k from the k-th update on. For each step the
history says which activities were scheduled (on which task queue, with how many payload bytes in and out,
and whether the workflow waited for them before moving on), which search attributes each upsert carried,
how many timers were started, how large the update's headers were (the project's proof of the person acting,
sealed by the codec like every payload; the start's too), and which child workflows were started (a review's
recommendations, each a workflow of its own that outlives it; their shapes are read from their own histories).
Payload bytes are `Payload.data` sizes as stored, so after the converter and the encryption codec.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History, HistoryEvent

from benchmarks.history import payload_bytes

# Upserted by the SDK with each `workflow.patched` marker, never by the workflow's own code.
CHANGE_VERSION = "TemporalChangeVersion"
# Parts of a review's work that `ReviewShape.without` can leave out of the shaped twin. A twin without them is no
# longer the review's work: it is the ceiling of a service that did less (benchmarks/PERFORMANCE.md, "What 0.6 of
# the bare twin would take").
LEAVABLE = ("children", "upserts")


@dataclass(frozen=True)
class ActivityShape:
    queue: str  # suffix after the workflow's own task queue ("" for that queue)
    awaited: bool  # the step waited for it before going on (a look-up), rather than running beside (a side effect)
    input_bytes: int
    result_bytes: int


@dataclass
class StepShape:
    activities: list[ActivityShape] = field(default_factory=list)
    upserts: list[list[str]] = field(default_factory=list)
    timers: int = 0
    update_input_bytes: int = 0
    update_header_bytes: int = 0  # the update's headers (the project's proof of the person acting)
    update_result_bytes: int = 0
    child_ids: list[str] = field(default_factory=list)  # workflow ids of the children the step started


@dataclass
class ReviewShape:
    start_input_bytes: int
    start_header_bytes: int
    start_attributes: list[str]
    patches: int
    steps: list[StepShape]
    result_bytes: int
    # Still running when its history was read: it waits for an action that never comes (a child at rest).
    open: bool = False
    # The shapes of the children it started, by workflow id (filled in by the caller, from their own histories).
    children: dict[str, ReviewShape] = field(default_factory=dict)

    @property
    def activities(self) -> int:
        return sum(len(step.activities) for step in self.steps)

    @property
    def updates(self) -> int:
        return len(self.steps) - 1

    @property
    def timers(self) -> int:
        return sum(step.timers for step in self.steps)

    @property
    def upserts(self) -> int:
        """Upsert events in the history, the patches' own included."""
        return sum(len(step.upserts) for step in self.steps) + (1 if self.patches else 0)

    def without(self, parts: Collection[str]) -> ReviewShape:
        """This shape less `parts` (of LEAVABLE): no child workflows, or no search-attribute upserts in any step
        (the start's attributes and the patches' markers stay)."""
        unknown = set(parts) - set(LEAVABLE)
        if unknown:
            raise ValueError(f"cannot leave out {sorted(unknown)}: only {', '.join(LEAVABLE)}")
        steps = [
            replace(
                step,
                upserts=[] if "upserts" in parts else step.upserts,
                child_ids=[] if "children" in parts else step.child_ids,
            )
            for step in self.steps
        ]
        children = {} if "children" in parts else {key: child.without(parts) for key, child in self.children.items()}
        return replace(self, steps=steps, children=children)

    def summary(self) -> dict[str, int]:
        return {
            "activities": self.activities,
            "updates": self.updates,
            "timers": self.timers,
            "upserts": self.upserts,
            "patches": self.patches,
            "children": sum(len(step.child_ids) for step in self.steps),
            "child_activities": sum(child.activities for child in self.children.values()),
        }


def _kind(event: HistoryEvent) -> str:
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


@dataclass
class _Scheduled:
    step: int
    queue: str
    input_bytes: int
    completed_at: int | None = None
    result_bytes: int = 0


def shape_of(history: History) -> ReviewShape:
    """Read the shape of one finished review's history (see the module docstring)."""
    events = list(history.events)
    started = events[0].workflow_execution_started_event_attributes
    own_queue = started.task_queue.name
    steps = [StepShape()]
    scheduled: dict[int, _Scheduled] = {}
    # The event after which a step's waited-for activities must have completed: the step's first upsert of
    # its own attributes (step 0, the triage) or the completion of its update (step k).
    boundaries: dict[int, int] = {}
    accepted_step: dict[int, int] = {}
    patches = 0
    result_bytes = 0
    completed = False
    for event in events:
        kind = _kind(event)
        step = len(steps) - 1
        if kind == "MARKER_RECORDED":
            patches += 1
        elif kind == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            update_input = event.workflow_execution_update_accepted_event_attributes.accepted_request.input
            steps.append(
                StepShape(
                    update_input_bytes=payload_bytes(update_input.args),
                    update_header_bytes=payload_bytes(update_input.header),
                )
            )
            accepted_step[event.event_id] = len(steps) - 1
        elif kind == "WORKFLOW_EXECUTION_UPDATE_COMPLETED":
            update = event.workflow_execution_update_completed_event_attributes
            owner = accepted_step.get(update.accepted_event_id)
            if owner is not None:
                steps[owner].update_result_bytes = payload_bytes(update.outcome)
                boundaries.setdefault(owner, event.event_id)
        elif kind == "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES":
            names = sorted(event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
            own = [name for name in names if name != CHANGE_VERSION]
            if own:
                steps[step].upserts.append(own)
                if step == 0:
                    boundaries.setdefault(0, event.event_id)
        elif kind == "TIMER_STARTED":
            steps[step].timers += 1
        elif kind == "ACTIVITY_TASK_SCHEDULED":
            request = event.activity_task_scheduled_event_attributes
            queue = request.task_queue.name
            suffix = queue[len(own_queue) :] if queue.startswith(own_queue) else queue
            scheduled[event.event_id] = _Scheduled(step, suffix, payload_bytes(request.input))
        elif kind == "ACTIVITY_TASK_COMPLETED":
            completion = event.activity_task_completed_event_attributes
            done = scheduled.get(completion.scheduled_event_id)
            if done is not None:
                done.completed_at = event.event_id
                done.result_bytes = payload_bytes(completion.result)
        elif kind == "START_CHILD_WORKFLOW_EXECUTION_INITIATED":
            steps[step].child_ids.append(event.start_child_workflow_execution_initiated_event_attributes.workflow_id)
        elif kind == "WORKFLOW_EXECUTION_COMPLETED":
            completed = True
            result_bytes = payload_bytes(event.workflow_execution_completed_event_attributes.result)
    for activity in scheduled.values():
        boundary = boundaries.get(activity.step)
        awaited = boundary is not None and activity.completed_at is not None and activity.completed_at < boundary
        steps[activity.step].activities.append(
            ActivityShape(activity.queue, awaited, activity.input_bytes, activity.result_bytes)
        )
    return ReviewShape(
        start_input_bytes=payload_bytes(started.input),
        start_header_bytes=payload_bytes(started.header),
        start_attributes=sorted(started.search_attributes.indexed_fields),
        patches=patches,
        steps=steps,
        result_bytes=result_bytes,
        open=not completed,
    )
