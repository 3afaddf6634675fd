"""The issue's targets, judged against the figures. Reported, never asserted."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

LOW_CONCURRENCY = 5


@dataclass(frozen=True)
class Target:
    name: str
    measured: float
    limit: float
    unit: str
    at_least: bool = False

    @property
    def met(self) -> bool:
        if math.isnan(self.measured):
            return False
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


def _run(results: dict[str, Any], label: str, concurrency: int) -> dict[str, Any] | None:
    return next((r for r in results["runs"] if r["label"] == label and r["concurrency"] == concurrency), None)


def judge(results: dict[str, Any]) -> list[Target]:
    targets = [Target("throughput project/twin", results["throughput"]["ratio"], 0.8, "x", at_least=True)]
    project, twin = _run(results, "project", LOW_CONCURRENCY), _run(results, "twin", LOW_CONCURRENCY)
    if project and twin:
        # The absolute latency targets are for the in-memory server; persisted runs are judged on the ratios.
        memory = " (in-memory)" if not results["mode"]["persisted"] else " (persisted: reference only)"
        for kind, limit in (("start", 50.0), ("decision", 150.0)):
            mine, bare = project[f"{kind}_ms"]["p99_ms"], twin[f"{kind}_ms"]["p99_ms"]
            targets.append(Target(f"{kind} p99 @{LOW_CONCURRENCY}{memory}", mine, limit, "ms"))
            targets.append(Target(f"{kind} p99 @{LOW_CONCURRENCY} project/twin", mine / bare, 1.5, "x"))
    worst = max(results["history"][label]["events_max"] for label in ("project", "project_lone"))
    targets.append(Target("events per standard path (worst measured)", worst, 120, "events"))
    rest = results.get("at_rest")
    if rest:
        targets.append(Target(f"worker RSS, {rest['reviews']} at rest", rest["worker_rss_at_rest_mb"], 300, "MB"))
        for timing in rest["cli"]:
            if timing["command"].startswith("peer-review list") and "--json" not in timing["command"]:
                targets.append(
                    Target(timing["command"].removeprefix("peer-review "), timing["seconds_median"], 1.0, "s")
                )
    return targets
