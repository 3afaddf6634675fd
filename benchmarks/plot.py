"""latest.png: throughput and latency percentiles, the project beside both twins, for each concurrency.
load.png: the load phase's latency over time, reads and actions, with their limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server or in CI

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

COLOURS = {"project": "#1f5fa8", "twin": "#9aa5b1", "shaped": "#e08a2e"}
LABELS = ("project", "shaped", "twin")
LEGEND = {"project": "project", "shaped": "shaped twin", "twin": "bare twin"}
KIND_COLOURS = {"read": "#1f5fa8", "action": "#c0392b"}
PERCENTILES = ("p50_ms", "p95_ms", "p99_ms")


def _bars(axes: Axes, groups: list[str], values: dict[str, list[float]], ylabel: str, title: str) -> None:
    width = 0.8 / max(len(values), 1)
    for offset, (label, heights) in enumerate(values.items()):
        positions = [i + (offset - (len(values) - 1) / 2) * width for i in range(len(groups))]
        bars = axes.bar(positions, heights, width, label=LEGEND.get(label, label), color=COLOURS.get(label))
        axes.bar_label(bars, fmt="%.1f" if max(heights, default=0) < 100 else "%.0f", fontsize=7)
    axes.set_xticks(range(len(groups)), groups, fontsize=8)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8)


def _save(figure: Figure, title: str, path: Path) -> None:
    """Title the figure, lay it out and write it to `path` as a PNG."""
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def save_plot(results: dict[str, Any], path: Path) -> None:
    runs = results["runs"]
    concurrencies = sorted({run["concurrency"] for run in runs})

    def run(label: str, concurrency: int) -> dict[str, Any]:
        return next(r for r in runs if r["label"] == label and r["concurrency"] == concurrency)

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    _bars(
        axes[0],
        [f"concurrency {c}" for c in concurrencies],
        {label: [run(label, c)["per_second"] for c in concurrencies] for label in LABELS},
        "complete reviews per second",
        "Lifecycle throughput",
    )
    for ax, kind, title in ((axes[1], "start_ms", "Start acknowledged"), (axes[2], "decision_ms", "Decision update")):
        groups = [f"{p.removesuffix('_ms')} @{c}" for c in concurrencies for p in PERCENTILES]
        _bars(
            ax,
            groups,
            {label: [run(label, c)[kind][p] for c in concurrencies for p in PERCENTILES] for label in LABELS},
            "milliseconds",
            f"{title} latency",
        )
    machine = results["machine"]
    mode = "persisted" if results["mode"]["persisted"] else "in-memory"
    _save(
        figure,
        f"Peer Review benchmark, {mode} dev server, {machine['cores']} cores, "
        f"project/shaped twin {results['throughput']['ratio_shaped']:.2f}, "
        f"project/bare twin {results['throughput']['ratio']:.2f}",
        path,
    )


def save_load_plot(load: dict[str, Any], rows: list[dict[str, Any]], limits: dict[str, float], path: Path) -> None:
    """Every request as a dot (time from the start, milliseconds), each kind's windowed p99, and the limits."""
    figure, (latency_axes, rate_axes) = plt.subplots(
        2, 1, figsize=(12, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    began = min((row["at"] for row in rows), default=0.0)
    for kind, colour in KIND_COLOURS.items():
        mine = [row for row in rows if ("action" if row["method"] == "POST" else "read") == kind]
        latency_axes.scatter(
            [row["at"] - began for row in mine], [row["ms"] for row in mine], s=4, alpha=0.35, color=colour
        )
        windows = [w for w in load["timeline"] if w[f"{kind}_p99_ms"] == w[f"{kind}_p99_ms"]]  # NaN: none
        latency_axes.plot(
            [w["t"] + 2.5 for w in windows],
            [w[f"{kind}_p99_ms"] for w in windows],
            color=colour,
            label=f"{kind}s: p99 per 5 s",
        )
        latency_axes.axhline(limits[kind], color=colour, linestyle="--", linewidth=1, label=f"{kind} limit")
    errors = [row for row in rows if row["error"] is not None]
    if errors:
        latency_axes.scatter(
            [row["at"] - began for row in errors],
            [row["ms"] for row in errors],
            marker="x",
            color="black",
            label="errors",
        )
    latency_axes.set_yscale("log")
    latency_axes.set_ylabel("milliseconds (log)")
    latency_axes.legend(fontsize=8, loc="upper right")
    rate_axes.bar(
        [w["t"] for w in load["timeline"]],
        [w["per_second"] for w in load["timeline"]],
        width=4.5,
        align="edge",
        color="#9aa5b1",
    )
    rate_axes.set_ylabel("requests/s")
    rate_axes.set_xlabel("seconds from the start")
    people = ", ".join(f"{count} {kind}s" for kind, count in load["users"].items())
    _save(
        figure,
        f"Pages and API under load: {people} over {load['open_reviews']:,} open reviews "
        f"({load['requests']} requests, {load['errors']} errors)",
        path,
    )
