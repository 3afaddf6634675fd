"""The terminal tables (rich), drawn from the same figures that go into latest.json."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from benchmarks.targets import Target, shaped_left_out


def _table(title: str, columns: Sequence[str], left: Collection[str]) -> Table:
    """A table titled on the left: the columns named in `left` hold labels, the others right-aligned figures."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in left else "right")
    return table


def _figures_table(title: str) -> Table:
    """A two-column table of named figures."""
    return _table(title, ("figure", "value"), left={"figure"})


def _turns(ratios: Sequence[float]) -> str:
    """Each turn's ratio, when the load point was run in more than one."""
    return f" (turns {', '.join(f'{r:.2f}' for r in ratios)})" if len(ratios) > 1 else ""


def _ms(figures: dict[str, float]) -> str:
    return f"{figures['p50_ms']:.0f} / {figures['p95_ms']:.0f} / {figures['p99_ms']:.0f}"


def runs_table(results: dict[str, Any]) -> Table:
    columns = (
        "run",
        "conc.",
        "done/err",
        "reviews/s",
        "start ms p50/95/99",
        "decision ms p50/95/99",
        "review ms p50/99",
        "CPU ms/review",
    )
    table = _table("Lifecycle throughput and latency (standard path)", columns, left={"run"})
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


# The history columns that count events of one type, by the event type they count.
_EVENT_COLUMNS = {
    "workflow tasks": "WORKFLOW_TASK_COMPLETED",
    "activities": "ACTIVITY_TASK_SCHEDULED",
    "updates": "WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
    "timers": "TIMER_STARTED",
    "upserts": "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
}


def history_table(results: dict[str, Any]) -> Table:
    columns = ("workflow", "events", *_EVENT_COLUMNS, "payload bytes", "history bytes")
    table = _table("History per review (median over a sample; max in brackets)", columns, left={"workflow"})
    names = {
        "project_lone": "project, lone reviews",
        "shaped_lone": "shaped twin, lone",
        "project": "project, under load",
        "shaped": "shaped twin, under load",
        "twin": "bare twin, under load",
    }
    for label, name in names.items():
        h = results["history"].get(label)
        if h is None:
            continue
        kinds = h["by_type_median"]
        table.add_row(
            f"{name} ({h['sampled']})",
            f"{h['events']['median']:.0f} ({h['events']['max']:.0f})",
            *(f"{kinds.get(event_type, 0):.0f}" for event_type in _EVENT_COLUMNS.values()),
            f"{h['payload_bytes']['median']:,.0f} ({h['payload_bytes']['max']:,.0f})",
            f"{h['history_bytes_median']:,.0f}",
        )
    return table


def _rest_table(title: str, rest: dict[str, Any], unit: str, units: str) -> Table:
    """How the workflows were brought to rest and the worker's memory once they were."""
    table = _figures_table(title)
    table.add_row("filled in", f"{rest['fill_seconds']:.0f} s ({rest['fill_per_second']:.1f} {units}/s)")
    table.add_row("side effects caught up", f"{rest['settle_seconds']:.0f} s after the last was at rest")
    table.add_row(
        f"CPU per {unit} to rest: worker | server",
        f"{rest[f'fill_worker_cpu_ms_per_{unit}']:.0f} | {rest[f'fill_server_cpu_ms_per_{unit}']:.0f} ms",
    )
    rss = (rest["worker_rss_idle_mb"], rest["worker_rss_at_rest_mb"], rest["worker_rss_peak_mb"])
    table.add_row("worker RSS idle / at rest / peak", " / ".join(f"{mb:.0f}" for mb in rss) + " MB")
    table.add_row("server RSS at rest", f"{rest['server_rss_at_rest_mb']:.0f} MB")
    return table


def at_rest_table(rest: dict[str, Any]) -> Table:
    title = f"Scale at rest: {rest['reviews']:,} reviews awaiting a Chair decision"
    table = _rest_table(title, rest, "review", "reviews")
    table.add_row("client.list in-process", f"{rest['in_process_list_seconds']:.2f} s ({rest['listed']} rows)")
    for timing in rest["cli"]:
        rows = "" if timing["rows"] is None else f", {timing['rows']} rows"
        failed = "" if timing["exit_code"] == 0 else f", FAILED with exit code {timing['exit_code']}"
        table.add_row(
            timing["command"], f"{timing['seconds_median']:.2f} s (min {timing['seconds_min']:.2f}{rows}{failed})"
        )
    return table


def open_recommendations_table(rest: dict[str, Any]) -> Table:
    """Beside the reviews at rest: the recommendations of reviews signed off (CPU includes their reviews' share)."""
    title = (
        f"Open recommendations at rest: {rest['recommendations']:,}, from {rest['reviews_signed_off']:,} reviews "
        "signed off (their CPU included)"
    )
    table = _rest_table(title, rest, "recommendation", "recommendations")
    if rest["failed_reviews"]:
        table.add_row("reviews that failed (not retried)", f"{rest['failed_reviews']}: {rest['first_failures'][0]}")
    return table


def _percentiles(latency: dict[str, float]) -> str:
    return " / ".join(f"{latency[key]:.0f}" for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))


def idle_table(idle: dict[str, Any]) -> Table:
    table = _table(
        f"Idle-review decisions (approve; worker cache {idle['worker_cache_size']} reviews)",
        ("set", "decided", "errors", "ms p50 / p95 / p99 / max", "worker cache: hits / misses"),
        left={"set"},
    )
    for decided in idle["sets"]:
        counters = decided["worker_counters"]
        table.add_row(
            decided["label"],
            str(decided["reviews"]),
            str(len(decided["errors"])),
            _percentiles(decided["latency"]),
            " / ".join(f"{counters.get(name, 0):.0f}" for name in ("sticky_cache_hit", "sticky_cache_miss")),
        )
    return table


def load_table(load: dict[str, Any]) -> Table:
    users = ", ".join(f"{count} {kind}s" for kind, count in load["users"].items())
    title = (
        f"Pages and API under load: {users} for {load['seconds']:.0f} s over {load['open_reviews']:,} open reviews "
        f"({load['requests']} requests, {load['per_second']:.1f}/s, {load['errors']} errors)"
    )
    table = _table(title, ("request", "kind", "count", "errors", "ms p50 / p95 / p99 / max"), left={"request", "kind"})
    for stats in [*load["by_request"], *load["kinds"].values()]:
        table.add_row(
            escape(stats["name"]),
            stats["kind"],
            str(stats["count"]),
            str(stats["errors"]),
            _percentiles(stats["latency"]),
        )
    return table


def recovery_table(recovery: dict[str, Any]) -> Table:
    table = _figures_table("Recovery after kill -9 of the worker (a replacement started at once)")
    table.add_row(
        "in flight at the kill",
        f"{recovery['referred_in_flight']} new reviews, {recovery['approved_before_kill']} approvals "
        f"({recovery['activities_lost']} activities running on the killed worker)",
    )
    table.add_row("approvals sent while no worker ran", str(recovery["approved_while_down"]))
    table.add_row("replacement polling after", f"{recovery['replacement_ready_seconds']:.1f} s")
    applied = recovery["decisions_applied"]["after_ready_ms"]
    table.add_row(
        f"waiting decisions applied ({recovery['decisions_waiting']}; {recovery['decisions_unanswered']} not)",
        f"p50 {applied['p50_ms'] / 1000:.1f} s, last {applied['max_ms'] / 1000:.1f} s after the replacement polled",
    )
    done, after_kill = recovery["side_effects_done"]["after_ready_ms"], recovery["side_effects_done"]["after_kill_ms"]
    finished = "" if recovery["finished"] else f" (not all within {recovery['patience_seconds']:.0f} s)"
    table.add_row(
        f"side effects done ({recovery['reviews_done']} of {recovery['reviews_watched']} reviews{finished})",
        f"p50 {done['p50_ms'] / 1000:.1f} s, last {done['max_ms'] / 1000:.1f} s after the replacement "
        f"({after_kill['max_ms'] / 1000:.1f} s after the kill)",
    )
    if recovery["errors"]:
        table.add_row("errors", "; ".join(recovery["errors"][:3]))
    return table


def proofs_table(proofs: dict[str, Any]) -> Table:
    table = _figures_table("Proofs of the acting person: CPU per review")
    table.add_row("proven messages per review (start + 4 updates)", str(proofs["messages_per_review"]))
    table.add_row(
        "sign (client) / check (worker), per message", f"{proofs['sign_us']:.0f} / {proofs['check_us']:.0f} µs"
    )
    table.add_row("proofs per review", f"{proofs['per_review_ms']:.2f} ms")
    table.add_row("a whole review (server + worker + load generator)", f"{proofs['review_cpu_ms']:.0f} ms")
    table.add_row("proofs' share", f"{100 * proofs['share']:.2f} %")
    return table


def reports_table(database: dict[str, Any]) -> Table:
    table = _table(
        f"Reports on {database['backend']}: {database['reviews']:,} closed reviews, "
        f"{database['recommendations']:,} recommendations, {database['audit_events']:,} audit events "
        f"(written in {database['fill_seconds']:.0f} s)",
        ("query", "median | min", "rows"),
        left={"query"},
    )
    for timing in database["timings"]:
        table.add_row(
            timing["what"], f"{timing['seconds_median']:.3f} | {timing['seconds_min']:.3f} s", str(timing["rows"])
        )
    return table


def targets_table(targets: list[Target]) -> Table:
    table = _table("Targets", ("target", "measured", "limit", "met"), left={"target"})
    for target in targets:
        sign = ">=" if target.at_least else "<="
        met = "[green]yes[/]" if target.met else "[bold red]NO[/]"
        table.add_row(
            target.name, f"{target.measured:.2f} {target.unit}", f"{sign} {target.limit:g} {target.unit}", met
        )
    return table


def speed_reference(machine: dict[str, Any]) -> str:
    """The machine's speed at start and end (runs stored before it was measured have none)."""
    if "cpu_reference_ms_start" not in machine:
        return ""
    end = machine.get("cpu_reference_ms_end")
    return (
        f"; CPU reference {machine['cpu_reference_ms_start']} ms at start"
        + (f", {end} ms at end" if end is not None else "")
        + " (fixed Python work on one core, larger is slower)"
    )


def show(results: dict[str, Any], targets: list[Target], console: Console) -> None:
    machine = results["machine"]
    mode = "persisted" if results["mode"]["persisted"] else "in-memory"
    console.print(
        f"[bold]Peer Review benchmark[/] ({'quick, ' if results['mode']['quick'] else ''}{mode} dev server) on "
        f"{machine['cores']} cores, {machine['memory_gb']} GB, Python {machine['python']}, "
        f"temporalio {machine['temporalio']}, {machine['temporal_cli']}; "
        f"load average at start {machine['load_average_start']}" + speed_reference(machine)
    )
    calibration = results["calibration"]
    plan, shaped = calibration["twin_plan"], calibration["shaped_shape"]
    throughput = results["throughput"]
    copied = f"{calibration.get('reviews', 'lone')} project reviews run {calibration.get('concurrency', 1)} at a time"
    without = shaped_left_out(results)
    left_out = (
        f" Left out of the shaped twin (--shaped-without): {', '.join(without)}; it is the ceiling of a service that "
        "did less, not of the review's work."
        if without
        else ""
    )
    console.print(
        f"Twins @{throughput['concurrency']} copied from {copied}: the bare twin their medians, "
        f"{plan['activities']} activities, {plan['updates']} updates, {plan['timers']} timers; the shaped twin the "
        f"median one, {shaped['activities']} activities, {shaped['updates']} updates, {shaped['timers']} timers, "
        f"{shaped['upserts']} upserts ({shaped['patches']} patch markers), {shaped.get('children', 0)} child workflows "
        f"({shaped.get('child_activities', 0)} activities between them).{left_out}\n"
        f"Throughput @{throughput['concurrency']}: project/bare twin "
        f"{throughput['ratio']:.2f}{_turns(throughput['ratio_by_turn'])}, project/shaped twin "
        f"{throughput['ratio_shaped']:.2f}{_turns(throughput['ratio_shaped_by_turn'])}"
    )
    console.print(runs_table(results))
    console.print(history_table(results))
    scale = results.get("scale") or {}
    # The phases a run may skip, each with its table, in the order they are shown.
    optional_tables: list[tuple[Any, Callable[[dict[str, Any]], Table]]] = [
        (results.get("proofs"), proofs_table),
        (results.get("at_rest"), at_rest_table),
        (results.get("open_recommendations"), open_recommendations_table),
        (scale.get("idle"), idle_table),
        (scale.get("load"), load_table),
        (scale.get("recovery"), recovery_table),
    ]
    for figures, table in optional_tables:
        if figures:
            console.print(table(figures))
    for database in results.get("reports") or []:
        console.print(reports_table(database))
    console.print(targets_table(targets))
    laps = {
        "lifecycle": results.get("lifecycle_seconds", 0.0),
        **scale.get("phase_seconds", {}),
        "reports": results.get("reports_seconds", 0.0),
    }
    console.print("Phase wall times: " + ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in laps.items()))
