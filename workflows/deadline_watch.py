"""Waiting on a deadline inside a workflow: sleep until the wait ends or its next alarm is due, and raise the alarm
only if the wait it belongs to is still current. Shared by reviews and tracked recommendations.

Runs inside the workflow: Temporal timers, so a restarted worker neither loses nor repeats an alarm.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.deadlines import AlarmKind, Wait

W = TypeVar("W", bound=StrEnum)


async def watch_deadline(
    current: Callable[[], Wait[W] | None],
    *,
    finished: Callable[[], bool],
    refresh: Callable[[], Awaitable[None]],
    alarm: Callable[[Wait[W], AlarmKind], None],
) -> None:
    """One step of the watch: returns after the wait changed or an alarm was raised; call it until `finished`.

    `refresh` looks up again who may act (after each move and before each alarm), so an alarm goes to whoever
    holds the post now.
    """
    wait = current()
    if wait is None:
        await workflow.wait_condition(lambda: current() is not None or finished())
        return
    when, kind = wait.next_alarm()
    timeout = max(when - workflow.now(), timedelta(seconds=1))
    try:
        await workflow.wait_condition(lambda: current() is not wait, timeout=timeout)
    except TimeoutError:
        await refresh()
        # An action may have ended this wait while the timer fired or while the directory answered: then the
        # alarm belongs to a wait that is over, and raising it would put back that wait's deadline.
        if current() is wait:
            alarm(wait, kind)
        return
    if not finished():
        await refresh()
