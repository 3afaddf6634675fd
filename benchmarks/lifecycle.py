"""The lifecycle phases: calibration, then the project beside its two twins at each load point, then history.

Calibration runs lone standard-path reviews. The bare twin takes the median counts of their activities,
updates and timers; the shaped twin copies the lone review with the median number of events step by step,
and the recommendation workflows it started, each from its own history once at rest (benchmarks/shape.py,
benchmarks/shaped_twin.py). Every worker runs in its own process and polls
throughout (an idle long poll costs nothing), so the runs can alternate fairly: each load point is run in turns
(`--rounds`), the project and its twins taking turns, so that a change in the machine's speed during the run falls
on all three rather than on whichever ran then. The figures are over all turns; each turn's ratio is kept beside.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import asdict, dataclass, replace
from statistics import median
from typing import Any

from temporalio.api.history.v1 import History
from temporalio.client import Client

from benchmarks.drivers import Driver, ProjectDriver, ShapedTwinDriver, TwinDriver, run_many
from benchmarks.history import ACTIVITY, TIMER, UPDATE, HistoryFigures, fetch_figures, summarise
from benchmarks.options import Options
from benchmarks.phases import Phase, combined, measure
from benchmarks.shape import ReviewShape, shape_of
from benchmarks.shaped_twin import ShapedTwin, shaped_twin
from benchmarks.stack import Stack
from benchmarks.twin import TwinPlan
from peer_review.temporal.client import PeerReviewClient

# Lone reviews for the twins' calibration (one in quick mode, where a minute is all there is).
CALIBRATION_REVIEWS = 3
# How long a started child may take to finish its first step (its look-ups, record and notifications).
CHILD_AT_REST_SECONDS = 30.0
LABELS = ("project", "twin", "shaped")


@dataclass
class LifecycleFigures:
    calibrated: list[HistoryFigures]
    plan: TwinPlan
    shaped: ShapedTwin
    phases: list[Phase]
    history: dict[str, Any]

    def run(self, label: str, concurrency: int) -> Phase | None:
        return next((p for p in self.phases if p.label == label and p.concurrency == concurrency), None)

    def as_dict(self, concurrency: int) -> dict[str, Any]:
        rates = {label: (run.run.per_second if (run := self.run(label, concurrency)) else 0.0) for label in LABELS}
        by_turn = {label: (run.rounds_per_second if (run := self.run(label, concurrency)) else ()) for label in LABELS}
        project = rates["project"]
        return {
            "calibration": {
                "project_histories": [asdict(h) for h in self.calibrated],
                "twin_plan": asdict(self.plan),
                "shaped_shape": {**self.shaped.shape.summary(), "steps": [asdict(s) for s in self.shaped.shape.steps]},
            },
            "throughput": {
                "concurrency": concurrency,
                "project_per_second": project,
                "twin_per_second": rates["twin"],
                "shaped_per_second": rates["shaped"],
                "ratio": project / rates["twin"] if rates["twin"] else 0.0,
                "ratio_shaped": project / rates["shaped"] if rates["shaped"] else 0.0,
                "ratio_by_turn": _ratios(by_turn["project"], by_turn["twin"]),
                "ratio_shaped_by_turn": _ratios(by_turn["project"], by_turn["shaped"]),
            },
            "runs": [phase.as_dict() for phase in self.phases],
            "history": {label: asdict(summary) for label, summary in self.history.items()},
        }


def _ratios(project: tuple[float, ...], twin: tuple[float, ...]) -> list[float]:
    return [p / t if t else 0.0 for p, t in zip(project, twin, strict=True)]


def _turn_sizes(reviews: int, rounds: int) -> list[int]:
    """`reviews` split into `rounds` turns as evenly as they go (no empty turn)."""
    turns = max(1, min(rounds, reviews))
    return [reviews // turns + (1 if turn < reviews % turns else 0) for turn in range(turns)]


def _spread(items: list[str], count: int) -> list[str]:
    """An even sample across the run (early, middle and late reviews alike)."""
    if count >= len(items):
        return items
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def _roles(server_pid: int, worker_pid: int) -> dict[str, int]:
    if worker_pid == os.getpid():
        return {"server": server_pid, "driver+worker": worker_pid}
    return {"server": server_pid, "worker": worker_pid, "driver": os.getpid()}


async def _history_of(stack: Stack, workflow_ids: list[str]) -> Any:
    return summarise([await fetch_figures(stack.client, wid) for wid in workflow_ids])


async def _at_rest(client: Client, workflow_id: str) -> None:
    """Wait until the workflow has no activity pending: it waits for a person, as a child does after its first step."""
    deadline = time.monotonic() + CHILD_AT_REST_SECONDS
    handle = client.get_workflow_handle(workflow_id)
    while time.monotonic() < deadline:
        if not (await handle.describe()).raw_description.pending_activities:
            return
        await asyncio.sleep(0.2)


async def _shape_with_children(client: Client, history: History) -> ReviewShape:
    shape = shape_of(history)
    for step in shape.steps:
        for child in step.child_ids:
            await _at_rest(client, child)
            child_history = await client.get_workflow_handle(child).fetch_history()
            shape.children[child] = shape_of(History(events=child_history.events))
    return shape


async def measure_lifecycle(stack: Stack, options: Options, server_pid: int) -> LifecycleFigures:
    client = stack.client
    project_settings, twin_settings, shaped_settings = (stack.settings(n) for n in LABELS)
    reviews = PeerReviewClient(client, project_settings)
    async with (
        stack.worker("project", project_settings) as project_pid,
        stack.worker("twin", twin_settings) as twin_pid,
    ):
        # Lone reviews, one after another: record batching makes the counts vary by one or two.
        lone = 1 if options.quick else CALIBRATION_REVIEWS
        calibration = await run_many(ProjectDriver(reviews, "CAL"), lone, 1)
        calibrated = [await fetch_figures(client, wid) for wid in calibration.workflow_ids]
        plan = TwinPlan(*(round(median(h.count(kind) for h in calibrated)) for kind in (ACTIVITY, UPDATE, TIMER)))
        await run_many(TwinDriver(client, twin_settings.task_queue, plan, "TWIN-CAL"), 1, 1)
        histories = [await client.get_workflow_handle(wid).fetch_history() for wid in calibration.workflow_ids]
        middle = sorted(histories, key=lambda h: len(h.events))[len(histories) // 2]
        shape = await _shape_with_children(client, History(events=middle.events))
        shaped = await shaped_twin(shape, client.data_converter)
        shaped_stack = replace(stack, shaped_queues=tuple(shaped.plan.queues))
        async with shaped_stack.worker("shaped", shaped_settings) as shaped_pid:
            lone_shaped = await run_many(ShapedTwinDriver(client, shaped_settings.task_queue, shaped, "SCAL"), 1, 1)
            phases: list[Phase] = []
            for concurrency, count in options.load_points():
                turns: dict[str, list[Phase]] = {label: [] for label in LABELS}
                for turn, size in enumerate(_turn_sizes(count, options.rounds)):
                    drivers: list[tuple[Driver, int]] = [
                        (ProjectDriver(reviews, f"P{concurrency}-{turn}"), project_pid),
                        (TwinDriver(client, twin_settings.task_queue, plan, f"T{concurrency}-{turn}"), twin_pid),
                        (
                            ShapedTwinDriver(client, shaped_settings.task_queue, shaped, f"S{concurrency}-{turn}"),
                            shaped_pid,
                        ),
                    ]
                    # Each turn starts with a different one, so none always follows the same neighbour.
                    lead = turn % len(drivers)
                    for driver, pid in drivers[lead:] + drivers[:lead]:
                        turns[driver.label].append(await measure(driver, size, concurrency, _roles(server_pid, pid)))
                phases.extend(combined(turns[label]) for label in LABELS)
    history = {
        phase.label: await _history_of(stack, _spread(phase.run.workflow_ids, options.history_sample))
        for phase in phases[: len(LABELS)]
    }
    # A lone review's history is longer: with nothing else running, fewer completions share a task.
    history["project_lone"] = summarise(calibrated)
    history["shaped_lone"] = await _history_of(stack, lone_shaped.workflow_ids)
    return LifecycleFigures(calibrated, plan, shaped, phases, history)
