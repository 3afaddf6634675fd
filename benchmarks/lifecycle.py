"""The lifecycle phases: calibration, then the project beside its two twins at each load point, then history.

The twins copy the project as it runs at each load point: before a load point, a batch of reviews is run at its
concurrency (with more in flight, a review's record writes coalesce differently, so its history has an activity
and a workflow task more than a lone review's). The bare twin takes the median counts of their activities,
updates and timers; the shaped twin copies the review with the median number of events step by step, and the
recommendation workflows it started, each from its own history once at rest (benchmarks/shape.py,
benchmarks/shaped_twin.py). Lone reviews are copied too, only for the history table's lone rows.
Every worker runs in its own process and polls
throughout (an idle long poll costs nothing), so the runs can alternate fairly: each load point is run in turns
(`--rounds`), the project and its twins taking turns, so that a change in the machine's speed during the run falls
on all three rather than on whichever ran then. The figures are over all turns; each turn's ratio is kept beside.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

from temporalio.api.history.v1 import History
from temporalio.client import Client

from benchmarks.drivers import Driver, ProjectDriver, ShapedTwinDriver, TwinDriver, run_many
from benchmarks.history import ACTIVITY, TIMER, UPDATE, HistoryFigures, fetch_figures, figures_of, summarise
from benchmarks.options import Options
from benchmarks.phases import Phase, combined, measure
from benchmarks.shape import ReviewShape, shape_of
from benchmarks.shaped_twin import ShapedTwin, shaped_twin
from benchmarks.stack import Stack
from benchmarks.twin import TwinPlan
from peer_review.temporal.client import PeerReviewClient

# Lone reviews, copied for the history table's lone rows (one in quick mode, where a minute is all there is).
CALIBRATION_REVIEWS = 3
# A load point's calibration batch, in reviews per review in flight: the first wave and one after it.
CALIBRATION_WAVES = 2
# How long a started child may take to finish its first step (its look-ups, record and notifications).
CHILD_AT_REST_SECONDS = 30.0
LABELS = ("project", "twin", "shaped")


@dataclass
class Calibration:
    """The twins of one load point, copied from project reviews run `concurrency` at a time."""

    concurrency: int
    figures: list[HistoryFigures]  # of each review copied
    plan: TwinPlan
    shaped: ShapedTwin

    def as_dict(self) -> dict[str, Any]:
        return {
            "concurrency": self.concurrency,
            "reviews": len(self.figures),
            "events_median": median(h.events for h in self.figures),
            "twin_plan": asdict(self.plan),
            "shaped_shape": {**self.shaped.shape.summary(), "steps": [asdict(s) for s in self.shaped.shape.steps]},
        }


@dataclass
class LifecycleFigures:
    lone: Calibration
    calibrations: list[Calibration]
    phases: list[Phase]
    history: dict[str, Any]

    def run(self, label: str, concurrency: int) -> Phase | None:
        return next((p for p in self.phases if p.label == label and p.concurrency == concurrency), None)

    def calibration(self, concurrency: int) -> Calibration:
        return next((c for c in self.calibrations if c.concurrency == concurrency), self.lone)

    def as_dict(self, concurrency: int) -> dict[str, Any]:
        rates = {label: (run.run.per_second if (run := self.run(label, concurrency)) else 0.0) for label in LABELS}
        by_turn = {label: (run.rounds_per_second if (run := self.run(label, concurrency)) else ()) for label in LABELS}
        project = rates["project"]
        return {
            "calibration": {
                # The throughput point's twins (what the ratios below compare with), then every point's and the lone.
                **self.calibration(concurrency).as_dict(),
                "project_histories": [asdict(h) for h in self.lone.figures],
                "by_concurrency": [c.as_dict() for c in self.calibrations],
                "lone": self.lone.as_dict(),
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


async def calibrate(
    reviews: PeerReviewClient, count: int, concurrency: int, shaped_without: tuple[str, ...] = ()
) -> Calibration:
    """Run `count` project reviews `concurrency` at a time and copy them into the twins: the bare twin's counts are
    their medians (record batching makes them vary by one or two), the shaped twin is the median-events review,
    less any `shaped_without` parts (ReviewShape.without)."""
    client = reviews.client
    run = await run_many(ProjectDriver(reviews, f"CAL{concurrency}"), count, concurrency)
    fetched = [await client.get_workflow_handle(wid).fetch_history() for wid in run.workflow_ids]
    histories = [History(events=history.events) for history in fetched]
    figures = [figures_of(history) for history in histories]
    plan = TwinPlan(*(round(median(h.count(kind) for h in figures)) for kind in (ACTIVITY, UPDATE, TIMER)))
    middle = sorted(histories, key=lambda history: len(history.events))[len(histories) // 2]
    shape = (await _shape_with_children(client, middle)).without(shaped_without)
    shaped = await shaped_twin(shape, client.data_converter)
    return Calibration(concurrency, figures, plan, shaped)


async def measure_lifecycle(stack: Stack, options: Options, server_pid: int) -> LifecycleFigures:
    client = stack.client
    project_settings, twin_settings, shaped_settings = (stack.settings(n) for n in LABELS)
    reviews = PeerReviewClient(client, project_settings)
    async with (
        stack.worker("project", project_settings) as project_pid,
        stack.worker("twin", twin_settings) as twin_pid,
        stack.worker("shaped", shaped_settings) as shaped_pid,
    ):
        lone = await calibrate(reviews, 1 if options.quick else CALIBRATION_REVIEWS, 1, options.shaped_without)
        await run_many(TwinDriver(client, twin_settings.task_queue, lone.plan, "TWIN-CAL"), 1, 1)
        lone_shaped = await run_many(ShapedTwinDriver(client, shaped_settings.task_queue, lone.shaped, "SCAL"), 1, 1)
        calibrations: list[Calibration] = []
        phases: list[Phase] = []
        for concurrency, count in options.load_points():
            waves = 1 if options.quick else CALIBRATION_WAVES
            point = await calibrate(reviews, waves * concurrency, concurrency, options.shaped_without)
            calibrations.append(point)
            turns: dict[str, list[Phase]] = {label: [] for label in LABELS}
            for turn, size in enumerate(_turn_sizes(count, options.rounds)):
                drivers: list[tuple[Driver, int]] = [
                    (ProjectDriver(reviews, f"P{concurrency}-{turn}"), project_pid),
                    (TwinDriver(client, twin_settings.task_queue, point.plan, f"T{concurrency}-{turn}"), twin_pid),
                    (
                        ShapedTwinDriver(client, shaped_settings.task_queue, point.shaped, f"S{concurrency}-{turn}"),
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
    history["project_lone"] = summarise(lone.figures)
    history["shaped_lone"] = await _history_of(stack, lone_shaped.workflow_ids)
    return LifecycleFigures(lone, calibrations, phases, history)
