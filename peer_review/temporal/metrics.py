"""Prometheus metrics: the SDK's own (temporal_*) plus business metrics (peer_review_*).

Labels carry statuses, reasons, levels and step names only: never a name, a staff id or a case reference.
Workflow metrics come from `workflow.metric_meter()`, which records nothing while a workflow is replayed,
so a restarted worker does not count a transition twice.
"""

from __future__ import annotations

from enum import StrEnum

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


class Metric(StrEnum):
    """The business metrics (peer_review_*), by the name each is created under."""

    REVIEWS_STARTED = "peer_review_reviews_started"
    TRANSITIONS = "peer_review_transitions"
    DECISIONS = "peer_review_decisions"
    REJECTED_ACTIONS = "peer_review_rejected_actions"
    OVERDUE = "peer_review_overdue"
    NOTIFICATION_FAILURES = "peer_review_notification_failures"
    RECORD_LATENCY = "peer_review_record_latency"
    # Starts, updates and signals refused for want of a valid proof of the acting person
    # (labels: message kind, problem).
    UNPROVEN_REQUESTS = "peer_review_unproven_requests"
    # Refusals of proven people beyond a review's daily allowance: counted here instead of written to the record.
    REFUSALS_NOT_RECORDED = "peer_review_refusals_not_recorded"
    # Record batches the database refused in a way no retry can mend (alert PeerReviewRecordsStuck).
    RECORDS_STUCK = "peer_review_records_stuck"
    # Each retention run's counts: reviews disposed of, and rows destroyed by kind (label `kind`); runs by outcome.
    RETENTION_DISPOSED = "peer_review_retention_disposed_reviews"
    RETENTION_DESTROYED_ROWS = "peer_review_retention_destroyed_rows"
    RETENTION_RUNS = "peer_review_retention_runs"


# The SDK's default buckets are for milliseconds; this histogram is in seconds, from a blink to an outage.
RECORD_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0]


def prometheus_runtime(port: int) -> Runtime:
    """A Temporal runtime that serves /metrics on `port` for the whole worker process."""
    prometheus = PrometheusConfig(
        bind_address=f"0.0.0.0:{port}", histogram_bucket_overrides={Metric.RECORD_LATENCY.value: RECORD_LATENCY_BUCKETS}
    )
    return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
