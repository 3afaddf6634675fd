"""A load point run in turns (the project and its twins taking turns) is reported as one phase."""

from __future__ import annotations

import pytest

from benchmarks.drivers import RunResult, Timings
from benchmarks.lifecycle import _turn_sizes
from benchmarks.phases import Phase, combined


@pytest.mark.parametrize(
    ("reviews", "rounds", "sizes"),
    [(300, 3, [100, 100, 100]), (10, 3, [4, 3, 3]), (2, 3, [1, 1]), (6, 1, [6]), (5, 0, [5])],
)
def test_turn_sizes(reviews: int, rounds: int, sizes: list[int]) -> None:
    assert _turn_sizes(reviews, rounds) == sizes


def _turn(reviews: int, wall: float, cpu: float, starts: list[float]) -> Phase:
    timings = Timings(start=starts, lifecycle=[1.0] * reviews)
    ids = [f"r-{wall}-{n}" for n in range(reviews)]
    run = RunResult("project", reviews, 50, wall, timings, ids)
    return Phase(run, {"worker": cpu}, (run.per_second,))


def test_turns_combine_into_one_phase() -> None:
    phase = combined([_turn(100, 20.0, 16.0, [0.01]), _turn(100, 30.0, 18.0, [0.02, 0.03])])
    assert phase.run.reviews == 200
    assert phase.run.wall_seconds == 50.0
    assert phase.run.per_second == pytest.approx(4.0)
    assert phase.cpu_seconds == {"worker": 34.0}
    assert phase.run.timings.start == [0.01, 0.02, 0.03]
    assert len(phase.run.workflow_ids) == 200
    assert phase.rounds_per_second == pytest.approx((5.0, 100 / 30))
    assert phase.as_dict()["rounds_per_second"] == pytest.approx([5.0, 100 / 30])
