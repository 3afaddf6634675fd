"""Command-line options of `python -m benchmarks.run`, with the full and the quick defaults."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_RESULTS = Path(tempfile.gettempdir()) / "peer-review-bench-quick"

FULL = {"reviews": 300, "concurrency": 50, "latency_reviews": 200, "at_rest": 3_000, "history_sample": 20}
QUICK = {"reviews": 10, "concurrency": 5, "latency_reviews": 10, "at_rest": 200, "history_sample": 5}


@dataclass(frozen=True)
class Options:
    quick: bool
    persisted: bool
    reviews: int
    concurrency: int
    latency_reviews: int
    low_concurrency: int
    at_rest: int
    history_sample: int
    output: Path
    tuning: dict[str, Any]
    in_process_workers: bool

    def load_points(self) -> list[tuple[int, int]]:
        """(concurrency, reviews) pairs: the throughput run first, then the low-concurrency latency run."""
        points = [(self.concurrency, self.reviews)]
        if self.low_concurrency != self.concurrency and self.latency_reviews > 0:
            points.append((self.low_concurrency, self.latency_reviews))
        return points


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run in well under a minute (make test)")
    parser.add_argument("--persisted", action="store_true", help="dev server with a SQLite file, not in memory")
    parser.add_argument("--reviews", type=int, help="reviews in the throughput run (300; quick 10)")
    parser.add_argument("--concurrency", type=int, help="reviews in flight in the throughput run (50; quick 5)")
    parser.add_argument("--latency-reviews", type=int, help="reviews in the low-concurrency run (200; quick 10)")
    parser.add_argument("--low-concurrency", type=int, default=5, help="concurrency of the latency run (5)")
    parser.add_argument("--at-rest", type=int, help="reviews left waiting for a Chair (3000; quick 200; 0 skips)")
    parser.add_argument("--history-sample", type=int, help="finished histories measured (20; quick 5)")
    parser.add_argument("--output", type=Path, help=f"where latest.json/png go ({RESULTS}; quick: {QUICK_RESULTS})")
    parser.add_argument(
        "--in-process-workers",
        action="store_true",
        help="run the project's and the twin's workers inside the load generator (default: own processes)",
    )
    tuning = parser.add_argument_group("worker tuning (passed to build_worker and to the twin's worker)")
    for flag in (
        "max-cached-workflows",
        "max-concurrent-workflow-tasks",
        "max-concurrent-activities",
        "max-concurrent-workflow-task-polls",
        "max-concurrent-activity-task-polls",
    ):
        tuning.add_argument(f"--{flag}", type=int)
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    names = (
        "max_cached_workflows",
        "max_concurrent_workflow_tasks",
        "max_concurrent_activities",
        "max_concurrent_workflow_task_polls",
        "max_concurrent_activity_task_polls",
    )

    def pick(name: str) -> int:
        value = getattr(args, name)
        return int(defaults[name] if value is None else value)

    return Options(
        quick=args.quick,
        persisted=args.persisted,
        reviews=pick("reviews"),
        concurrency=pick("concurrency"),
        latency_reviews=pick("latency_reviews"),
        low_concurrency=args.low_concurrency,
        at_rest=pick("at_rest"),
        history_sample=pick("history_sample"),
        output=args.output or (QUICK_RESULTS if args.quick else RESULTS),
        tuning={name: getattr(args, name) for name in names if getattr(args, name) is not None},
        in_process_workers=args.in_process_workers,
    )
