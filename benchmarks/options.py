"""Command-line options of `python -m benchmarks.run`, with the full and the quick defaults."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.shape import LEAVABLE

RESULTS = Path(__file__).resolve().parent / "results"
QUICK_RESULTS = Path(tempfile.gettempdir()) / "peer-review-bench-quick"

FULL: dict[str, Any] = {
    "reviews": 300,
    "concurrency": 50,
    "latency_reviews": 200,
    "rounds": 3,
    "at_rest": 10_000,
    "history_sample": 20,
    "idle_one": 100,
    "idle_five": 100,
    "scale_cache": None,  # the worker's own default (Settings.max_cached_workflows)
    "load_users": 50,
    "load_seconds": 120,
    "load_spawn_rate": 10,
    "load_seed": 400,
    "recovery_reviews": 20,
    "recovery_decisions": 20,
    "recovery_burst_seconds": 1.0,
    "recovery_patience": 150,
    "retention_reviews": 100_000,
    "retention_decisions": 100,
    "reports_reviews": 100_000,
    "open_recommendations": 10_000,
}
QUICK: dict[str, Any] = {
    "reviews": 6,
    "concurrency": 5,
    "latency_reviews": 6,
    "rounds": 1,
    "at_rest": 200,
    "history_sample": 5,
    "idle_one": 2,
    "idle_five": 5,
    "scale_cache": 8,
    "load_users": 5,
    "load_seconds": 8,
    "load_spawn_rate": 5,
    "load_seed": 4,
    "recovery_reviews": 3,
    "recovery_decisions": 3,
    "recovery_burst_seconds": 0.5,
    "recovery_patience": 12,
    "retention_reviews": 200,
    "retention_decisions": 3,
    "reports_reviews": 30,
    "open_recommendations": 20,
}


@dataclass(frozen=True)
class Options:
    quick: bool
    persisted: bool
    reviews: int
    concurrency: int
    latency_reviews: int
    rounds: int
    low_concurrency: int
    at_rest: int
    retention_reviews: int
    retention_decisions: int
    history_sample: int
    idle_one: int
    idle_five: int
    scale_cache: int | None
    load_users: int
    load_seconds: float
    load_spawn_rate: float
    load_seed: int
    recovery_reviews: int
    recovery_decisions: int
    recovery_burst_seconds: float
    recovery_patience: float
    reports_reviews: int
    open_recommendations: int
    output: Path
    tuning: dict[str, Any]
    in_process_workers: bool
    shaped_without: tuple[str, ...] = ()

    def load_points(self) -> list[tuple[int, int]]:
        """(concurrency, reviews) pairs: the throughput run first, then the low-concurrency latency run."""
        points = [(self.concurrency, self.reviews)]
        if self.low_concurrency != self.concurrency and self.latency_reviews > 0:
            points.append((self.low_concurrency, self.latency_reviews))
        return points


# The figures that a quick run and a full run size differently (`pick` chooses the option or the mode's default).
SIZES = (
    "reviews",
    "concurrency",
    "latency_reviews",
    "rounds",
    "at_rest",
    "history_sample",
    "idle_one",
    "idle_five",
    "scale_cache",
    "load_users",
    "load_seconds",
    "load_spawn_rate",
    "load_seed",
    "recovery_reviews",
    "recovery_decisions",
    "recovery_burst_seconds",
    "recovery_patience",
    "retention_reviews",
    "retention_decisions",
    "reports_reviews",
    "open_recommendations",
)


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run in well under a minute (make test)")
    parser.add_argument("--persisted", action="store_true", help="dev server with a SQLite file, not in memory")
    parser.add_argument("--reviews", type=int, help="reviews in the throughput run (300; quick 6)")
    parser.add_argument("--concurrency", type=int, help="reviews in flight in the throughput run (50; quick 5)")
    parser.add_argument("--latency-reviews", type=int, help="reviews in the low-concurrency run (200; quick 6)")
    parser.add_argument("--low-concurrency", type=int, default=5, help="concurrency of the latency run (5)")
    parser.add_argument(
        "--rounds",
        type=int,
        help="turns each load point's reviews are split into, the project and its twins taking turns (3; quick 1)",
    )
    parser.add_argument("--history-sample", type=int, help="finished histories measured (20; quick 5)")
    scale = parser.add_argument_group(
        "the scale phases: the real worker and API processes over many open reviews (benchmarks/scale.py)"
    )
    scale.add_argument(
        "--at-rest",
        type=int,
        help="open reviews filled, all awaiting a Chair (10000; quick 200; raised if the phases below need more; "
        "0 skips every scale phase)",
    )
    scale.add_argument("--scale-cache", type=int, help="the scale worker's workflow cache (its default; quick 8)")
    scale.add_argument(
        "--idle-one", type=int, help="idle reviews approved one at a time, per cache state (100; quick 2)"
    )
    scale.add_argument(
        "--idle-five", type=int, help="idle reviews approved five at once, per cache state (100; quick 5)"
    )
    scale.add_argument("--load-users", type=int, help="simulated people for the load phase (50; quick 5)")
    scale.add_argument("--load-seconds", type=float, help="length of the load phase (120; quick 8; 0 skips it)")
    scale.add_argument("--load-spawn-rate", type=float, help="people started per second (10; quick 5)")
    scale.add_argument("--load-seed", type=int, help="reviews put under review for the reviewers (400; quick 4)")
    scale.add_argument("--recovery-reviews", type=int, help="new reviews in flight at the kill (20; quick 3; 0 skips)")
    scale.add_argument(
        "--recovery-decisions", type=int, help="approvals sent just before the kill, and again while down (20; quick 3)"
    )
    scale.add_argument("--recovery-burst-seconds", type=float, help="from the burst's start to the kill (1; quick 0.5)")
    scale.add_argument("--recovery-patience", type=float, help="longest wait after the kill (150 s; quick 12)")
    retention = parser.add_argument_group("retention: closed reviews written straight into the records database")
    retention.add_argument(
        "--retention-reviews", type=int, help="closed reviews to verify and dispose of (100,000; quick 200; 0 skips)"
    )
    retention.add_argument(
        "--retention-decisions", type=int, help="Chair decisions timed idle, and again during the run (100; quick 3)"
    )
    parser.add_argument(
        "--reports-reviews",
        type=int,
        help="the reports phase: closed reviews (3 recommendations each) written straight into the records database "
        "(100000; quick 30; 0 skips it); PostgreSQL too when PEER_REVIEW_BENCH_POSTGRES_URL is set",
    )
    parser.add_argument(
        "--open-recommendations",
        type=int,
        help="open recommendations brought to rest on a worker of their own, 10 per review signed off, and the "
        "worker's memory read (10000; quick 20; 0 skips it)",
    )
    parser.add_argument("--output", type=Path, help=f"where latest.json/png go ({RESULTS}; quick: {QUICK_RESULTS})")
    parser.add_argument(
        "--in-process-workers",
        action="store_true",
        help="run the project's and the twin's workers inside the load generator (default: own processes)",
    )
    parser.add_argument(
        "--shaped-without",
        action="append",
        choices=LEAVABLE,
        default=[],
        help="leave this part of a review's work out of the shaped twin (repeat for both): the ceiling of a service "
        "that did less, for a change to what it does; the project/shaped ratio then no longer judges the project",
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

    def pick(name: str) -> Any:
        value = getattr(args, name)
        return defaults[name] if value is None else value

    return Options(
        quick=args.quick,
        persisted=args.persisted,
        low_concurrency=args.low_concurrency,
        **{name: pick(name) for name in SIZES},
        output=args.output or (QUICK_RESULTS if args.quick else RESULTS),
        tuning={name: getattr(args, name) for name in names if getattr(args, name) is not None},
        in_process_workers=args.in_process_workers,
        shaped_without=tuple(dict.fromkeys(args.shaped_without)),
    )
