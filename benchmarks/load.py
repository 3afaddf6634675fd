"""Pages and API under load: locust, headless, drives simulated people against `peer-review api`.

The API runs as its own process beside the worker, over the reviews the scale phase filled (benchmarks/scale.py).
Before the run, some open reviews are moved on to "under review" with a reviewer, so reviewers have
findings to submit. The people themselves are in benchmarks/locustfile.py. Reads are GETs (pages and API),
actions are POSTs (decide, submit findings, refer). Every request is logged by the locustfile; the figures
(percentiles per request and per kind, errors, latency over time) come from that log.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import os
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.drivers import example
from benchmarks.idle import Pending
from benchmarks.plot import save_load_plot
from benchmarks.processes import BIN
from benchmarks.procfs import cpu_seconds, wait_until_idle
from benchmarks.stack import spawn
from benchmarks.stats import Latency
from benchmarks.targets import LOAD_LIMITS_MS
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, Reason, ReviewerAssignment, Status
from peer_review.temporal.client import PeerReviewClient

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
# Shares of the simulated people: Chairs, reviewers, auditors and the integration that refers.
SHARES = {"chair": 0.40, "reviewer": 0.30, "auditor": 0.24, "integration": 0.06}
PEOPLE = {
    "chair": ["S100", "S101", "S110"],
    "reviewer": ["S400", "S401"],
    "auditor": ["S500", "S200"],
    "integration": ["S300"],
}
REVIEWERS = PEOPLE["reviewer"]
# Seconds a person takes between two clicks (uniform between the two). Kept under uvicorn's keep-alive timeout
# (5 s): a request sent on a connection at the moment the server closes it as idle fails in any HTTP client,
# an artefact of the load tool (browsers retry such a request), not of the service.
THINK_SECONDS = (1.0, 4.0)
DECLINE_SHARE = 0.2
SEARCHES: list[dict[str, str]] = [
    {},
    {"status": Status.AWAITING_CHAIR_DECISION.value},
    {"status": Status.UNDER_REVIEW.value},
    {"osn": "south-west"},
    {"reason": Reason.COMPLEX_ISSUE.value, "osn": "north-east"},
]
AUDIT_SAMPLE = 500
SEED_LANES = 10
SEED_SETTLE_PATIENCE_SECONDS = 600.0
# Latency over time is drawn in windows of this many seconds.
WINDOW_SECONDS = 5.0


def people(total: int) -> dict[str, int]:
    """Split `total` people by SHARES, at least one of each kind."""
    counts = {kind: max(1, math.floor(total * share)) for kind, share in SHARES.items()}
    counts["chair"] += total - sum(counts.values())
    return counts


def decisions_needed(users: int, seconds: float) -> int:
    """Reviews awaiting a decision that the Chairs can get through (three clicks each), with half again spare."""
    mean_think = sum(THINK_SECONDS) / 2
    return math.ceil(people(users)["chair"] * seconds / (3 * mean_think) * 1.5)


@dataclass(frozen=True)
class RequestStats:
    name: str
    kind: str  # "read" (GET) or "action" (POST)
    count: int
    errors: int
    latency: dict[str, float]


@dataclass
class LoadFigures:
    users: dict[str, int]
    seconds: float
    think_seconds: tuple[float, float]
    open_reviews: int
    seeded_under_review: int
    requests: int
    per_second: float
    errors: int
    first_errors: list[str]
    kinds: dict[str, RequestStats]
    by_request: list[RequestStats]
    # Per WINDOW_SECONDS window from the start: p50 and p99 of each kind, and requests per second.
    timeline: list[dict[str, float]]
    cpu_seconds: dict[str, float]
    actions_done: dict[str, int] = field(default_factory=dict)


async def seed_under_review(reviews: PeerReviewClient, chosen: Sequence[Pending]) -> dict[str, list[str]]:
    """Approve and assign a reviewer to each chosen review; returns the reviews by reviewer."""
    assigned: dict[str, list[str]] = defaultdict(list)
    queue = iter(enumerate(chosen))

    async def lane() -> None:
        for position, review in queue:
            reviewer = REVIEWERS[position % len(REVIEWERS)]
            await reviews.act(review.referral_id, ActionName.APPROVE, Decision(actor=review.chair, rationale="ok"))
            await reviews.act(
                review.referral_id,
                ActionName.ASSIGN_REVIEWER,
                ReviewerAssignment(actor=review.chair, reviewer=reviewer),
            )
            assigned[reviewer].append(review.referral_id)

    await asyncio.gather(*(lane() for _ in range(SEED_LANES)))
    return dict(assigned)


def _decision_pools(pending: Sequence[Pending]) -> dict[str, list[str]]:
    """Reviews awaiting a decision, shared out among the Chairs (and the deputy) who may decide them."""
    pools: dict[str, list[str]] = defaultdict(list)
    deputies = {"S100": ["S100", "S101"]}  # examples/directory.yaml: S101 deputises for north-east
    turns: dict[str, int] = defaultdict(int)
    for review in pending:
        deciders = deputies.get(review.chair, [review.chair])
        pools[deciders[turns[review.chair] % len(deciders)]].append(review.referral_id)
        turns[review.chair] += 1
    return dict(pools)


def write_plan(
    path: Path,
    secret: str,
    users: dict[str, int],
    decide: Sequence[Pending],
    findings: dict[str, list[str]],
    audit_ids: Sequence[str],
) -> None:
    plan = {
        "secret": secret,
        "think_seconds": list(THINK_SECONDS),
        "users": users,
        "people": PEOPLE,
        "pools": {"decide": _decision_pools(decide), "findings": findings},
        "decline_share": DECLINE_SHARE,
        "findings": example("findings.json"),
        "searches": SEARCHES,
        "audit_ids": list(audit_ids),
        "refer_prefix": f"LOAD-{random.randrange(16**6):06x}",
        "referral": example("referral-complex-issue.json"),
        "osns": ["north-east", "south-west"],
    }
    path.write_text(json.dumps(plan))


def _stats(name: str, kind: str, rows: Sequence[dict[str, Any]]) -> RequestStats:
    ok = [row["ms"] / 1000 for row in rows if row["error"] is None]
    return RequestStats(name, kind, len(rows), sum(1 for r in rows if r["error"] is not None), asdict(Latency.of(ok)))


def _kind(row: dict[str, Any]) -> str:
    return "action" if row["method"] == "POST" else "read"


def _timeline(rows: Sequence[dict[str, Any]], began: float, seconds: float) -> list[dict[str, float]]:
    windows = []
    for start in range(0, max(math.ceil(seconds / WINDOW_SECONDS), 1)):
        low, high = began + start * WINDOW_SECONDS, began + (start + 1) * WINDOW_SECONDS
        inside = [row for row in rows if low <= row["at"] < high]
        window: dict[str, float] = {"t": start * WINDOW_SECONDS, "per_second": len(inside) / WINDOW_SECONDS}
        for kind in ("read", "action"):
            latency = Latency.of([row["ms"] / 1000 for row in inside if _kind(row) == kind])
            window[f"{kind}_p50_ms"], window[f"{kind}_p99_ms"] = latency.p50_ms, latency.p99_ms
        window["errors"] = sum(1 for row in inside if row["error"] is not None)
        windows.append(window)
    return windows


def summarise_requests(rows: list[dict[str, Any]]) -> tuple[dict[str, RequestStats], list[RequestStats]]:
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_name[row["name"]].append(row)
        by_kind[_kind(row)].append(row)
    kinds = {kind: _stats(f"all {kind}s", kind, by_kind.get(kind, [])) for kind in ("read", "action")}
    named = [_stats(name, _kind(found[0]), found) for name, found in sorted(by_name.items())]
    return kinds, named


def write_table(path: Path, figures: LoadFigures) -> None:
    """The results table: one row per request and one per kind, as CSV."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["request", "kind", "count", "errors", "p50_ms", "p95_ms", "p99_ms", "max_ms"])
        for stats in [*figures.by_request, *figures.kinds.values()]:
            latency = stats.latency
            writer.writerow(
                [stats.name, stats.kind, stats.count, stats.errors]
                + [f"{latency[key]:.1f}" for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms")]
            )


async def run_locust(
    url: str,
    plan_path: Path,
    workdir: Path,
    users: int,
    seconds: float,
    spawn_rate: float,
    watched: dict[str, int],
) -> tuple[list[dict[str, Any]], dict[str, float], float]:
    """Run locust headless; returns its request log, the CPU each watched process spent, and when it was launched."""
    requests_path = workdir / "load-requests.jsonl"
    command = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        f"{spawn_rate:g}",
        "--run-time",
        f"{max(int(seconds), 1)}s",
        "--host",
        url,
        "--csv",
        str(workdir / "locust"),
        "--only-summary",
        "--loglevel",
        "WARNING",
        # People mid-visit get as long as one more think to finish it; anything still running then is dropped
        # (a request cut short is not logged, so it is neither a sample nor an error).
        "--stop-timeout",
        f"{THINK_SECONDS[1]:g}",
    ]
    environment = {"BENCH_LOAD_PLAN": str(plan_path), "BENCH_LOAD_REQUESTS": str(requests_path)}
    before = {role: cpu_seconds(pid) for role, pid in watched.items()}
    began = time.time()
    process = spawn(command, {**os.environ, **environment}, workdir / "locust.log")
    locust_cpu = 0.0
    while process.poll() is None:
        locust_cpu = max(locust_cpu, _cpu_or_zero(process.pid))
        await asyncio.sleep(0.5)
    spent = {role: cpu_seconds(pid) - before[role] for role, pid in watched.items()}
    spent["locust"] = locust_cpu
    if not requests_path.exists():
        raise RuntimeError(f"locust wrote no request log: {(workdir / 'locust.log').read_text()[-2000:]}")
    rows = [json.loads(line) for line in requests_path.read_text().splitlines() if line.strip()]
    return rows, spent, began


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


async def measure_load(
    reviews: PeerReviewClient,
    api_url: str,
    secret: str,
    watched: dict[str, int],
    workdir: Path,
    output: Path,
    *,
    users: int,
    seconds: float,
    spawn_rate: float,
    open_reviews: int,
    decide: Sequence[Pending],
    seed: Sequence[Pending],
    audit_ids: Sequence[str],
) -> LoadFigures:
    """Seed reviews under review, then run `users` people for `seconds` against the API at `api_url`; writes the
    results table (load.csv) and the latency-over-time plot (load.png) into `output`."""
    findings = await seed_under_review(reviews, seed)
    # A reviewer may open a review once its record shows them assigned, as after the email telling them so: the
    # seeding's records and notifications catch up before anyone starts clicking.
    await wait_until_idle(watched["worker"], patience=SEED_SETTLE_PATIENCE_SECONDS)
    counts = people(users)
    plan_path = workdir / "load-plan.json"
    write_plan(plan_path, secret, counts, decide, findings, audit_ids)
    rows, spent, launched = await run_locust(api_url, plan_path, workdir, users, seconds, spawn_rate, watched)
    # Time runs from the first request, as in the plot: locust itself takes a few seconds to start.
    began = min((row["at"] for row in rows), default=launched)
    kinds, named = summarise_requests(rows)
    errors = [row for row in rows if row["error"] is not None]
    elapsed = (max(row["at"] + row["ms"] / 1000 for row in rows) - began) if rows else seconds
    done: dict[str, int] = defaultdict(int)
    for row in rows:
        if row["method"] == "POST" and row["error"] is None:
            done[row["name"].removeprefix("POST ").strip("/")] += 1
    figures = LoadFigures(
        users=counts,
        seconds=seconds,
        think_seconds=THINK_SECONDS,
        open_reviews=open_reviews,
        seeded_under_review=len(seed),
        requests=len(rows),
        per_second=len(rows) / elapsed if elapsed > 0 else 0.0,
        errors=len(errors),
        first_errors=[f"{row['name']} ({row['status']}): {row['error']}" for row in errors[:5]],
        kinds=kinds,
        by_request=named,
        timeline=_timeline(rows, began, seconds),
        cpu_seconds=spent,
        actions_done=dict(done),
    )
    write_table(output / "load.csv", figures)
    save_load_plot(asdict(figures), rows, LOAD_LIMITS_MS, output / "load.png")
    return figures
