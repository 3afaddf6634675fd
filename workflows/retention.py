"""The retention workflow: once a day (a Temporal Schedule) it disposes of the records of reviews past retention.

It decides *when*; what is past retention is peer_review.domain.retention's and the disposal itself is an activity
(peer_review.records.retention), one short transaction per batch. Every batch is idempotent, so a crash at any point
resumes where it stopped; the run's counts are read back from the database at the end, so a retried batch is never
counted twice nor a committed one lost.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.retention import (
        Candidates,
        DisposalBatch,
        DisposalQuery,
        RetentionRequest,
        RetentionResult,
        RunSummary,
    )
    from peer_review.temporal.metrics import Metric
    from peer_review.temporal.names import DISPOSAL_CANDIDATES, DISPOSE_BATCH, RETENTION_COUNTS, RETENTION_WORKFLOW

from workflows.activity_policy import ActivityPolicy

BATCH_TIMEOUT = timedelta(minutes=5)
# A disposal batch heartbeats while it runs: one on a worker that died is tried again after this, not BATCH_TIMEOUT.
# A retried batch is safe: each is one transaction, and it disposes only of what is still past retention.
BATCH_HEARTBEAT_TIMEOUT = timedelta(seconds=20)
# The database being down only delays a run: batches retry until it answers (tomorrow's run starts regardless).
BATCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=5))

# Each retention activity is one transaction against the records database, retried until the database answers.
IN_RECORDS = ActivityPolicy(BATCH_TIMEOUT, BATCH_RETRY)
DISPOSAL = IN_RECORDS.with_heartbeat(BATCH_HEARTBEAT_TIMEOUT)


@workflow.defn(name=RETENTION_WORKFLOW)
class RetentionWorkflow:
    @workflow.run
    async def run(self, request: RetentionRequest) -> RetentionResult:
        clock = workflow.now()
        if request.now is not None and request.now > clock:
            raise ApplicationError(
                "now: a retention run may look back, never forward", type="InvalidInput", non_retryable=True
            )
        now = request.now or clock
        run = workflow.info().workflow_id
        found = await IN_RECORDS.run(DISPOSAL_CANDIDATES, DisposalQuery(now=now, limit=request.listed), Candidates)
        if request.dry_run:
            workflow.metric_meter().create_counter(Metric.RETENTION_RUNS).add(1, {"outcome": "dry_run"})
            return RetentionResult(
                run=run,
                dry_run=True,
                now=now,
                cutoff=found.cutoff,
                reviews=found.total,
                would_dispose=found.referral_ids,
            )
        batches = 0
        batch = DisposalBatch(now=now, run=run, limit=request.batch_size)
        while await DISPOSAL.run(DISPOSE_BATCH, batch, int):
            batches += 1
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(request.model_copy(update={"now": now}))
        result = await IN_RECORDS.run(RETENTION_COUNTS, RunSummary(now=now, run=run, batches=batches), RetentionResult)
        meter = workflow.metric_meter()
        meter.create_counter(Metric.RETENTION_RUNS).add(1, {"outcome": "completed"})
        meter.create_counter(Metric.RETENTION_DISPOSED).add(result.reviews)
        destroyed = meter.create_counter(Metric.RETENTION_DESTROYED_ROWS)
        for kind in ("audit_events", "notifications", "access_log", "recommendations"):
            destroyed.add(getattr(result, kind), {"kind": kind})
        return result
