"""latest.png: throughput and latency percentiles, project beside twin, for each concurrency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server or in CI

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

COLOURS = {"project": "#1f5fa8", "twin": "#9aa5b1"}
PERCENTILES = ("p50_ms", "p95_ms", "p99_ms")


def _bars(axes: Axes, groups: list[str], values: dict[str, list[float]], ylabel: str, title: str) -> None:
    width = 0.8 / max(len(values), 1)
    for offset, (label, heights) in enumerate(values.items()):
        positions = [i + (offset - (len(values) - 1) / 2) * width for i in range(len(groups))]
        bars = axes.bar(positions, heights, width, label=label, color=COLOURS.get(label.split()[0]))
        axes.bar_label(bars, fmt="%.1f" if max(heights, default=0) < 100 else "%.0f", fontsize=7)
    axes.set_xticks(range(len(groups)), groups, fontsize=8)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.legend(fontsize=8)


def save_plot(results: dict[str, Any], path: Path) -> None:
    runs = results["runs"]
    concurrencies = sorted({run["concurrency"] for run in runs})

    def run(label: str, concurrency: int) -> dict[str, Any]:
        return next(r for r in runs if r["label"] == label and r["concurrency"] == concurrency)

    figure, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    _bars(
        axes[0],
        [f"concurrency {c}" for c in concurrencies],
        {label: [run(label, c)["per_second"] for c in concurrencies] for label in ("project", "twin")},
        "complete reviews per second",
        "Lifecycle throughput",
    )
    for ax, kind, title in ((axes[1], "start_ms", "Start acknowledged"), (axes[2], "decision_ms", "Decision update")):
        groups = [f"{p.removesuffix('_ms')} @{c}" for c in concurrencies for p in PERCENTILES]
        _bars(
            ax,
            groups,
            {
                label: [run(label, c)[kind][p] for c in concurrencies for p in PERCENTILES]
                for label in ("project", "twin")
            },
            "milliseconds",
            f"{title} latency",
        )
    machine = results["machine"]
    mode = "persisted" if results["mode"]["persisted"] else "in-memory"
    figure.suptitle(
        f"Peer Review benchmark, {mode} dev server, {machine['cores']} cores, "
        f"ratio project/twin {results['throughput']['ratio']:.2f}",
        fontsize=11,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
