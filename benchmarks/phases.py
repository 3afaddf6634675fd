"""One measured load point: a driver's reviews at a concurrency, with the CPU each process spent on them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from benchmarks.drivers import Driver, RunResult, Timings, run_many
from benchmarks.procfs import cpu_seconds
from benchmarks.stats import Latency


@dataclass(frozen=True)
class Phase:
    run: RunResult
    # CPU seconds per process role ("server", "worker", "driver"; one "driver+worker" when in-process):
    # on a CPU-bound machine they say where the time goes.
    cpu_seconds: dict[str, float]
    # Reviews per second in each turn the load point was run in (`combined`; one turn for a plain `measure`).
    rounds_per_second: tuple[float, ...]

    @property
    def label(self) -> str:
        return self.run.label

    @property
    def concurrency(self) -> int:
        return self.run.concurrency

    def latency(self, kind: str) -> Latency:
        return Latency.of(getattr(self.run.timings, kind))

    def as_dict(self) -> dict[str, Any]:
        completed = max(self.run.completed, 1)
        return {
            "label": self.label,
            "concurrency": self.concurrency,
            "reviews": self.run.reviews,
            "completed": self.run.completed,
            "errors": len(self.run.timings.errors),
            "first_errors": self.run.timings.errors[:3],
            "wall_seconds": self.run.wall_seconds,
            "per_second": self.run.per_second,
            "rounds_per_second": list(self.rounds_per_second),
            "start_ms": asdict(self.latency("start")),
            "decision_ms": asdict(self.latency("decision")),
            "lifecycle_ms": asdict(self.latency("lifecycle")),
            "cpu_ms_per_review": {role: 1000 * spent / completed for role, spent in self.cpu_seconds.items()},
        }


async def measure(driver: Driver, reviews: int, concurrency: int, processes: dict[str, int]) -> Phase:
    """Run the load point; `processes` maps a role to the pid whose CPU time is charged to it."""
    before = {role: cpu_seconds(pid) for role, pid in processes.items()}
    result = await run_many(driver, reviews, concurrency)
    cpu = {role: cpu_seconds(pid) - before[role] for role, pid in processes.items()}
    return Phase(result, cpu, (result.per_second,))


def combined(turns: Sequence[Phase]) -> Phase:
    """One load point run in turns, as one phase: reviews, wall time and CPU summed, every sample kept."""
    first = turns[0]
    timings = Timings()
    for turn in turns:
        for kind in fields(Timings):
            getattr(timings, kind.name).extend(getattr(turn.run.timings, kind.name))
    run = RunResult(
        first.label,
        sum(turn.run.reviews for turn in turns),
        first.concurrency,
        sum(turn.run.wall_seconds for turn in turns),
        timings,
        [wid for turn in turns for wid in turn.run.workflow_ids],
    )
    cpu = {role: sum(turn.cpu_seconds[role] for turn in turns) for role in first.cpu_seconds}
    return Phase(run, cpu, tuple(turn.run.per_second for turn in turns))
