"""The benchmark's header names the machine's speed when the run measured it, and stays readable for older runs."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.report import speed_reference


@pytest.mark.parametrize(
    ("machine", "shown"),
    [
        (
            {"cpu_reference_ms_start": 75.9, "cpu_reference_ms_end": 81.2},
            "; CPU reference 75.9 ms at start, 81.2 ms at end (fixed Python work on one core, larger is slower)",
        ),
        (
            {"cpu_reference_ms_start": 75.9},
            "; CPU reference 75.9 ms at start (fixed Python work on one core, larger is slower)",
        ),
        ({"load_average_start": [0.2, 0.1, 0.1]}, ""),
    ],
    ids=["start and end", "start only", "stored before it was measured"],
)
def test_the_reference_in_the_header(machine: dict[str, Any], shown: str) -> None:
    assert speed_reference(machine) == shown
