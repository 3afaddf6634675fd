"""How a workflow runs one kind of activity: how long an attempt may take and how failed attempts are retried.

Each kind is named once, as an ActivityPolicy, and every call of that kind goes through its `run`, so calls of
one kind cannot drift apart in their timeouts or retries.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

T = TypeVar("T")


class ActivityPolicy:
    """A plain class, not a dataclass: the sandbox runs this module again for every workflow it loads into the
    worker's cache, and making a frozen dataclass cost more CPU than everything else the module does."""

    __slots__ = ("heartbeat", "retry", "start_to_close")

    def __init__(self, start_to_close: timedelta, retry: RetryPolicy, heartbeat: timedelta | None = None) -> None:
        self.start_to_close = start_to_close
        self.retry = retry
        # An activity that heartbeats: an attempt on a worker that died is retried after this, not after
        # start_to_close.
        self.heartbeat = heartbeat

    def with_heartbeat(self, heartbeat: timedelta) -> ActivityPolicy:
        return ActivityPolicy(self.start_to_close, self.retry, heartbeat)

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
