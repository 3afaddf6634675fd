"""The Grafana dashboard and the Prometheus alerts: valid PromQL over metrics the worker really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest

from tests.helpers.deploy import (
    ALERTS,
    BUSINESS_METRICS,
    DASHBOARD,
    KNOWN_METRICS,
    OPERATIONS,
    Metric,
    load_yaml,
    metric_for_exported_name,
)

# Grafana's built-in variables become durations; the dashboard's own variables become plain values.
GRAFANA_DURATIONS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1d"}
EXPORTED_NAMES = {name for metric in KNOWN_METRICS for name in metric.exported_names()}


def substitute_grafana_variables(expr: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return GRAFANA_DURATIONS.get(name, "x")

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


def selected_metrics(expr: str) -> list[tuple[Metric, str]]:
    """Every (metric, exported name) an expression selects; fails on a selector that names no known metric."""
    found: list[tuple[Metric, str]] = []
    problems: list[str] = []

    def visit(node: promql_parser.Expr) -> None:
        if not isinstance(node, promql_parser.VectorSelector):
            return
        names: set[str] = set()
        name_matchers = [m for m in node.matchers.matchers if m.name == "__name__"]
        if node.name:
            names.add(node.name)
        for matcher in name_matchers:
            if matcher.op == promql_parser.MatchOp.Equal:
                names.add(matcher.value)
            elif matcher.op == promql_parser.MatchOp.Re:
                candidates = {exported for exported in EXPORTED_NAMES if re.fullmatch(matcher.value, exported)}
                if not candidates:
                    problems.append(f"__name__=~{matcher.value!r} matches no known metric")
                metrics = {metric_for_exported_name(name) for name in candidates}
                if len(metrics) > 1:
                    problems.append(f"__name__=~{matcher.value!r} matches more than one metric")
                names.update(candidates)
            else:
                problems.append(f"unsupported __name__ matcher {matcher}")
        if not names:
            problems.append(f"a selector without a metric name: {node}")
        for name in names:
            metric = metric_for_exported_name(name)
            if metric is None:
                problems.append(f"unknown metric {name}")
            else:
                found.append((metric, name))

    promql_parser.walk(promql_parser.parse(expr), visit)
    assert not problems, f"{expr}: {problems}"
    return found


def grouping_labels(expr: str) -> set[str]:
    return {label.strip() for group in re.findall(r"\bby \(([^)]*)\)", expr) for label in group.split(",")}


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def dashboard_panels() -> list[dict[str, Any]]:
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def dashboard_exprs() -> list[str]:
    return [target["expr"] for panel in dashboard_panels() for target in panel["targets"]]


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"]]


# --- unit checks of the helpers themselves --------------------------------------------------------------------


def test_helper_accepts_tolerant_names_and_rejects_unknown_ones() -> None:
    assert {name for _, name in selected_metrics('rate({__name__=~"peer_review_decisions(_total)?"}[5m])')} == {
        "peer_review_decisions",
        "peer_review_decisions_total",
    }
    with pytest.raises(AssertionError, match="unknown metric"):
        selected_metrics("rate(peer_review_decision_total[5m])")
    with pytest.raises(AssertionError, match="matches no known metric"):
        selected_metrics('rate({__name__=~"peer_review_nothing(_total)?"}[5m])')
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(temporal_request[5m])")


# --- the dashboard ------------------------------------------------------------------------------------------


def test_dashboard_is_importable_grafana_json() -> None:
    board = dashboard()
    assert board["uid"] == "peer-review"
    assert board["schemaVersion"] >= 36
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    variables = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard_panels():
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        assert panel["datasource"]["uid"] == "${datasource}"
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


def test_every_dashboard_expression_is_promql_over_known_metrics() -> None:
    exprs = dashboard_exprs()
    assert len(exprs) >= 20
    for expr in exprs:
        selected_metrics(substitute_grafana_variables(expr))


def test_dashboard_variable_queries_use_known_metrics() -> None:
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] != "query":
            continue
        metric = re.fullmatch(r"label_values\((\w+), *(\w+)\)", variable["definition"])
        assert metric, variable["definition"]
        assert metric_for_exported_name(metric.group(1)) is not None


def test_dashboard_covers_every_business_metric_and_the_key_sdk_metrics() -> None:
    used = {
        metric.name for expr in dashboard_exprs() for metric, _ in selected_metrics(substitute_grafana_variables(expr))
    }
    assert {metric.name for metric in BUSINESS_METRICS} <= used
    assert {
        "temporal_workflow_task_schedule_to_start_latency",
        "temporal_activity_execution_failed",
        "temporal_workflow_completed",
        "temporal_sticky_cache_hit",
        "temporal_sticky_cache_size",
        "temporal_workflow_task_queue_poll_succeed",
        "temporal_workflow_task_execution_failed",
    } <= used


def test_dashboard_groups_business_metrics_by_their_own_labels() -> None:
    sdk_labels = {"le", "instance", "activity_type", "failure_reason", "operation", "poller_type", "worker_type"}
    for expr in dashboard_exprs():
        metrics = {metric for metric, _ in selected_metrics(substitute_grafana_variables(expr))}
        allowed = set(sdk_labels).union(*(metric.labels for metric in metrics))
        assert grouping_labels(expr) <= allowed, expr


def test_dashboard_filters_by_task_queue_never_by_namespace() -> None:
    # A Kubernetes scrape may rename the SDK's `namespace` label to `exported_namespace`.
    for expr in dashboard_exprs():
        assert "namespace=" not in expr and "namespace=~" not in expr, expr
        assert 'task_queue=~"$task_queue"' in expr, expr


# --- the alerts ---------------------------------------------------------------------------------------------


def test_alert_rules_are_well_formed_and_documented() -> None:
    runbook = OPERATIONS.read_text(encoding="utf-8")
    anchors = {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-") for heading in _headings(runbook)}
    rules = alert_rules()
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        url = rule["annotations"]["runbook_url"]
        assert url.startswith("docs/operations.md#"), url
        assert url.split("#", 1)[1] in anchors, f"{rule['alert']}: no heading for {url} in docs/operations.md"


def test_alert_expressions_are_promql_over_known_metrics() -> None:
    for rule in alert_rules():
        selected_metrics(rule["expr"])
    promtool = shutil.which("promtool")
    if promtool:  # Debian's prometheus package; checked as Prometheus itself would load the file
        result = subprocess.run([promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_cover_the_failure_modes_in_the_runbook() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    assert {
        "PeerReviewWorkerDown",
        "PeerReviewWorkflowTaskFailures",
        "PeerReviewWorkflowTaskScheduleToStartSlow",
        "PeerReviewOverdueRising",
        "PeerReviewNotificationFailures",
        "PeerReviewRecordLatencyHigh",
        "PeerReviewRecordKeepingFailing",
        "PeerReviewRecordsStuck",
        "PeerReviewUnprovenRequests",
    } <= names


def _headings(markdown: str) -> list[str]:
    return [line.lstrip("#").strip() for line in markdown.splitlines() if line.startswith("#")]


# --- the catalogue against a real worker's /metrics ------------------------------------------------------------

SAMPLE = Path(__file__).with_name("worker-metrics.sample.txt")


def sample_families() -> dict[str, tuple[str, set[str]]]:
    """{family: (type, label names of its first series)} from the saved scrape."""
    families: dict[str, tuple[str, set[str]]] = {}
    current = ""
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("# TYPE "):
            _, _, current, kind = line.split()
            families[current] = (kind, set())
        elif line and not line.startswith("#"):
            labels = set(re.findall(r"(\w+)=\"", line.split("{", 1)[1].rsplit("}", 1)[0]))
            families[current] = (families[current][0], labels)
    return families


def test_the_catalogue_knows_every_metric_a_real_worker_exports() -> None:
    families = sample_families()
    assert len(families) >= 20
    catalogue = {metric.name: metric for metric in KNOWN_METRICS}
    for family, (kind, labels) in families.items():
        assert family in catalogue, f"{family} is exported but not in the catalogue"
        assert catalogue[family].kind == kind, family
        assert catalogue[family].labels <= labels, f"{family}: expected labels {catalogue[family].labels}"
        if not family.startswith(("temporal_request", "temporal_long_request")):  # client calls: some have none
            assert "task_queue" in labels, family  # what the dashboard and alerts select on
