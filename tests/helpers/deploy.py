"""Shared helpers for the static checks of deploy/: file loading, settings names, the metric catalogue."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from peer_review.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = DEPLOY / "compose" / "compose.yaml"
HELM_VALUES = DEPLOY / "helm" / "values.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
SCRIPT = DEPLOY / "register-search-attributes.sh"
DASHBOARD = DEPLOY / "grafana" / "peer-review-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "peer-review-alerts.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"

# The Kubernetes release whose bundled schemas (kubernetes-validate) the manifests are checked against.
KUBERNETES_VERSION = "1.33.0"


def yaml_files() -> list[Path]:
    return sorted(path for path in DEPLOY.rglob("*") if path.suffix in {".yaml", ".yml"} and path.is_file())


@functools.cache
def load_yaml(path: Path) -> Any:
    """Parsed once per run: callers must not modify what they get."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.cache
def load_documents(path: Path) -> list[dict[str, Any]]:
    """Parsed once per run: callers must not modify what they get."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def k8s_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every Kubernetes object under deploy/k8s (the kustomization is a kustomize file, not an object)."""
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in load_documents(path):
            yield path, document


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    for _, document in k8s_documents():
        if document["kind"] == kind and document["metadata"]["name"] == name:
            return document
    raise AssertionError(f"no {kind} {name} under deploy/k8s")


def env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variables a pydantic-settings class reads."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(choice.upper() for choice in alias.choices if isinstance(choice, str))
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def worker_env_names() -> set[str]:
    return env_names(Settings)


def readme_configuration_variables() -> set[str]:
    """The variables in the README's configuration table; `_PORT` after PEER_REVIEW_SMTP_HOST is SMTP_PORT."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        tokens = re.findall(r"`([A-Z_]+)`", cell)
        if not tokens:
            continue
        first = tokens[0]
        names.add(first)
        stem = first.rsplit("_", 1)[0]
        names.update(stem + token for token in tokens[1:] if token.startswith("_"))
        names.update(token for token in tokens[1:] if not token.startswith("_"))
    return names


# --- metrics ------------------------------------------------------------------------------------------------

MetricKind = Literal["counter", "histogram", "gauge"]


@dataclass(frozen=True)
class Metric:
    name: str
    kind: MetricKind
    labels: frozenset[str] = frozenset()
    # Unit suffixes an exporter may add before _bucket/_sum/_count (PrometheusConfig(unit_suffix=True)).
    unit_suffixes: tuple[str, ...] = ("",)

    def exported_names(self) -> set[str]:
        """What Prometheus may store: counters with or without _total; histograms as _bucket/_sum/_count."""
        if self.kind == "counter":
            return {self.name, f"{self.name}_total"}
        if self.kind == "histogram":
            return {f"{self.name}{unit}{part}" for unit in self.unit_suffixes for part in ("_bucket", "_sum", "_count")}
        return {self.name}


# Business metrics the service exports (names agreed with the lead; labels as they will be emitted).
BUSINESS_METRICS = [
    Metric("peer_review_reviews_started", "counter", frozenset({"reason", "level"})),
    Metric("peer_review_transitions", "counter", frozenset({"from_status", "to_status"})),
    Metric("peer_review_decisions", "counter", frozenset({"decision"})),
    Metric("peer_review_rejected_actions", "counter", frozenset({"action", "kind"})),
    Metric("peer_review_overdue", "counter", frozenset({"status"})),
    Metric("peer_review_notification_failures", "counter", frozenset({"step"})),
    Metric("peer_review_unproven_requests", "counter", frozenset({"message_kind", "problem"})),
    Metric("peer_review_refusals_not_recorded", "counter", frozenset({"action"})),
    Metric("peer_review_records_stuck", "counter", frozenset({"error_type"})),
    Metric("peer_review_record_latency", "histogram", frozenset(), ("", "_seconds")),
]

# The Temporal Core SDK's worker metrics (sdk-core telemetry/metrics.rs), with the default `temporal_` prefix.
_SDK_COUNTERS = [
    "workflow_completed",
    "workflow_failed",
    "workflow_canceled",
    "workflow_continue_as_new",
    "workflow_task_queue_poll_succeed",
    "workflow_task_queue_poll_empty",
    "workflow_task_execution_failed",
    "activity_execution_failed",
    "activity_task_received",
    "activity_poll_no_task",
    "local_activity_total",
    "local_activity_execution_failed",
    "local_activity_execution_cancelled",
    "sticky_cache_hit",
    "sticky_cache_miss",
    "sticky_cache_total_forced_eviction",
    "worker_start",
    "request",
    "request_failure",
    "long_request",
    "long_request_failure",
]
_SDK_HISTOGRAMS = [
    "workflow_endtoend_latency",
    "workflow_task_schedule_to_start_latency",
    "workflow_task_replay_latency",
    "workflow_task_execution_latency",
    "activity_execution_latency",
    "activity_schedule_to_start_latency",
    "activity_succeed_endtoend_latency",
    "local_activity_execution_latency",
    "local_activity_succeed_endtoend_latency",
    "request_latency",
    "long_request_latency",
]
_SDK_GAUGES = ["num_pollers", "worker_task_slots_available", "worker_task_slots_used", "sticky_cache_size"]
SDK_METRICS = (
    [Metric(f"temporal_{name}", "counter") for name in _SDK_COUNTERS]
    + [Metric(f"temporal_{name}", "histogram") for name in _SDK_HISTOGRAMS]
    + [Metric(f"temporal_{name}", "gauge") for name in _SDK_GAUGES]
)
KNOWN_METRICS = BUSINESS_METRICS + SDK_METRICS


def metric_for_exported_name(exported: str) -> Metric | None:
    for metric in KNOWN_METRICS:
        if exported in metric.exported_names():
            return metric
    return None
