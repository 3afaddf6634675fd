"""The terminal tables (rich), drawn from the same figures that go into latest.json."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.targets import Target


def _ms(figures: dict[str, float]) -> str:
    return f"{figures['p50_ms']:.0f} / {figures['p95_ms']:.0f} / {figures['p99_ms']:.0f}"


def runs_table(results: dict[str, Any]) -> Table:
    table = Table(title="Lifecycle throughput and latency (standard path)", title_justify="left")
    for column in (
        "run",
        "conc.",
        "done/err",
        "reviews/s",
        "start ms p50/95/99",
        "decision ms p50/95/99",
        "review ms p50/99",
        "CPU ms/review",
    ):
        table.add_column(column, justify="right" if column not in ("run",) else "left")
    for run in results["runs"]:
        life = run["lifecycle_ms"]
        table.add_row(
            run["label"],
            str(run["concurrency"]),
            f"{run['completed']}/{run['errors']}",
            f"{run['per_second']:.1f}",
            _ms(run["start_ms"]),
            _ms(run["decision_ms"]),
            f"{life['p50_ms']:.0f} / {life['p99_ms']:.0f}",
            " | ".join(f"{role} {ms:.0f}" for role, ms in run["cpu_ms_per_review"].items()),
        )
    return table


def history_table(results: dict[str, Any]) -> Table:
    table = Table(title="History per review (median over a sample; max in brackets)", title_justify="left")
    for column in (
        "workflow",
        "events",
        "workflow tasks",
        "activities",
        "updates",
        "timers",
        "upserts",
        "payload bytes",
        "history bytes",
    ):
        table.add_column(column, justify="left" if column == "workflow" else "right")
    names = {"project_lone": "project, lone reviews", "project": "project, under load", "twin": "twin, under load"}
    for label, name in names.items():
        h = results["history"][label]
        kinds = h["by_type_median"]
        table.add_row(
            f"{name} ({h['sampled']})",
            f"{h['events_median']:.0f} ({h['events_max']})",
            f"{kinds.get('WORKFLOW_TASK_COMPLETED', 0):.0f}",
            f"{kinds.get('ACTIVITY_TASK_SCHEDULED', 0):.0f}",
            f"{kinds.get('WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 0):.0f}",
            f"{kinds.get('TIMER_STARTED', 0):.0f}",
            f"{kinds.get('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', 0):.0f}",
            f"{h['payload_bytes_median']:,.0f} ({h['payload_bytes_max']:,})",
            f"{h['history_bytes_median']:,.0f}",
        )
    return table


def at_rest_table(rest: dict[str, Any]) -> Table:
    table = Table(title=f"Scale at rest: {rest['reviews']:,} reviews awaiting a Chair decision", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("filled in", f"{rest['fill_seconds']:.0f} s ({rest['fill_per_second']:.0f} reviews/s)")
    table.add_row(
        "CPU per review to rest: worker | server",
        f"{rest['fill_worker_cpu_ms_per_review']:.0f} | {rest['fill_server_cpu_ms_per_review']:.0f} ms",
    )
    rss = (rest["worker_rss_idle_mb"], rest["worker_rss_at_rest_mb"], rest["worker_rss_peak_mb"])
    table.add_row("worker RSS idle / at rest / peak", " / ".join(f"{mb:.0f}" for mb in rss) + " MB")
    table.add_row("server RSS at rest", f"{rest['server_rss_at_rest_mb']:.0f} MB")
    table.add_row("client.list in-process", f"{rest['in_process_list_seconds']:.2f} s ({rest['listed']} rows)")
    for timing in rest["cli"]:
        rows = "" if timing["rows"] is None else f", {timing['rows']} rows"
        table.add_row(timing["command"], f"{timing['seconds_median']:.2f} s (min {timing['seconds_min']:.2f}{rows})")
    return table


def proofs_table(proofs: dict[str, Any]) -> Table:
    table = Table(title="Proofs of the acting person: CPU per review", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("proven messages per review (start + 4 updates)", str(proofs["messages_per_review"]))
    table.add_row(
        "sign (client) / check (worker), per message", f"{proofs['sign_us']:.0f} / {proofs['check_us']:.0f} µs"
    )
    table.add_row("proofs per review", f"{proofs['per_review_ms']:.2f} ms")
    table.add_row("a whole review (server + worker + load generator)", f"{proofs['review_cpu_ms']:.0f} ms")
    table.add_row("proofs' share", f"{100 * proofs['share']:.2f} %")
    return table


def targets_table(targets: list[Target]) -> Table:
    table = Table(title="Targets", title_justify="left")
    for column in ("target", "measured", "limit", "met"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for target in targets:
        sign = ">=" if target.at_least else "<="
        met = "[green]yes[/]" if target.met else "[bold red]NO[/]"
        table.add_row(
            target.name, f"{target.measured:.2f} {target.unit}", f"{sign} {target.limit:g} {target.unit}", met
        )
    return table


def show(results: dict[str, Any], targets: list[Target], console: Console) -> None:
    machine = results["machine"]
    mode = "persisted" if results["mode"]["persisted"] else "in-memory"
    console.print(
        f"[bold]Peer Review benchmark[/] ({'quick, ' if results['mode']['quick'] else ''}{mode} dev server) on "
        f"{machine['cores']} cores, {machine['memory_gb']} GB, Python {machine['python']}, "
        f"temporalio {machine['temporalio']}, {machine['temporal_cli']}; "
        f"load average at start {machine['load_average_start']}"
    )
    plan = results["calibration"]["twin_plan"]
    console.print(
        f"Twin calibrated from lone project reviews' histories (median): {plan['activities']} activities, "
        f"{plan['updates']} updates, {plan['timers']} timers. "
        f"Throughput ratio project/twin: {results['throughput']['ratio']:.2f}"
    )
    console.print(runs_table(results))
    console.print(history_table(results))
    if results.get("at_rest"):
        console.print(at_rest_table(results["at_rest"]))
    if results.get("proofs"):
        console.print(proofs_table(results["proofs"]))
    console.print(targets_table(targets))
