"""How a workflow runs one kind of activity: how long an attempt may take and how failed attempts are retried.

Each kind is named once, as an ActivityPolicy, and every call of that kind goes through its `run`, so calls of
one kind cannot drift apart in their timeouts or retries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

T = TypeVar("T")


@dataclass(frozen=True)
class ActivityPolicy:
    start_to_close: timedelta
    retry: RetryPolicy
    # An activity that heartbeats: an attempt on a worker that died is retried after this, not after start_to_close.
    heartbeat: timedelta | None = None

    async def run(
        self,
        activity: str,
        arg: object,
        result_type: type[T],
        *,
        deadline: timedelta | None = None,
        task_queue: str | None = None,
    ) -> T:
        """Run `activity` (by name) under this policy; `deadline` bounds all its attempts together, `task_queue`
        sends it elsewhere than the workflow's own queue."""
        result: T = await workflow.execute_activity(
            activity,
            arg,
            result_type=result_type,
            start_to_close_timeout=self.start_to_close,
            heartbeat_timeout=self.heartbeat,
            schedule_to_close_timeout=deadline,
            retry_policy=self.retry,
            task_queue=task_queue,
        )
        return result
