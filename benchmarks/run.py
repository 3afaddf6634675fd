"""`make bench`: `python -m benchmarks.run [--quick] [--persisted]`. Prints the tables, writes latest.json/png.

Figures are reported, never asserted: a missed target is shown in red and the exit code stays 0, so the
quick run inside `make test` only checks that the benchmark still works.
"""

from __future__ import annotations

import asyncio
import json

from rich.console import Console

from benchmarks.bench import run_benchmark
from benchmarks.options import parse
from benchmarks.plot import save_plot
from benchmarks.report import show
from benchmarks.targets import judge


def main(argv: list[str] | None = None) -> None:
    options = parse(argv)
    # Piped or under make without a terminal, rich would assume 80 columns and fold every table.
    console = Console() if Console().is_terminal else Console(width=160)
    options.output.mkdir(parents=True, exist_ok=True)
    with console.status("benchmarking (the full run takes 25-30 minutes, the quick one about a minute)..."):
        results = asyncio.run(run_benchmark(options, keep=options.output))
    targets = judge(results)
    results["targets"] = [target.as_dict() for target in targets]
    json_path, png_path = options.output / "latest.json", options.output / "latest.png"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    save_plot(results, png_path)
    show(results, targets, console)
    console.print(f"Figures: {json_path}\nPlot: {png_path}")
    if (results.get("scale") or {}).get("load"):
        console.print(f"Load: {options.output / 'load.csv'} (table), {options.output / 'load.png'} (over time)")


if __name__ == "__main__":
    main()
