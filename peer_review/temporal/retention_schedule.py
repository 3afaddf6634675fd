"""The retention Schedule: the retention workflow once a day, created or brought up to date idempotently.

`make run` (dev.py), the deploy registration job and `peer-review retention apply` all call `apply_schedule`; the
second and later calls update the schedule in place, so it exists exactly once with the current definition. The
workflow is named, not imported: peer_review never imports workflows/.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from peer_review.domain.retention import RetentionRequest, RetentionResult
from peer_review.settings import Settings
from peer_review.temporal.names import RECORDS_QUEUE_SUFFIX, RETENTION_SCHEDULE_ID, RETENTION_WORKFLOW

# Daily at 02:00 UTC, when nobody is deciding anything; a run still going when the next is due makes it skip.
EVERY = timedelta(days=1)
AT = timedelta(hours=2)
RUN_TIMEOUT = timedelta(hours=12)


def retention_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RETENTION_WORKFLOW,
            RetentionRequest(),
            id=RETENTION_SCHEDULE_ID,
            task_queue=settings.task_queue + RECORDS_QUEUE_SUFFIX,
            execution_timeout=RUN_TIMEOUT,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=EVERY, offset=AT)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def apply_schedule(client: Client, settings: Settings) -> str:
    """Create the schedule, or update it to the current definition; returns "created" or "updated"."""
    schedule = retention_schedule(settings)
    try:
        await client.create_schedule(RETENTION_SCHEDULE_ID, schedule)
        return "created"
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(RETENTION_SCHEDULE_ID).update(replace)
        return "updated"


async def run_retention(client: Client, settings: Settings, request: RetentionRequest, run_id: str) -> RetentionResult:
    """Run the retention workflow now (the command line's `retention run`) and wait for its result."""
    result: RetentionResult = await client.execute_workflow(
        RETENTION_WORKFLOW,
        request,
        id=run_id,
        task_queue=settings.task_queue + RECORDS_QUEUE_SUFFIX,
        result_type=RetentionResult,
        execution_timeout=RUN_TIMEOUT,
    )
    return result
