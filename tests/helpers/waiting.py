"""Waiting for what trails a workflow a little (the records projection, visibility, a worker's log), with a bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

T = TypeVar("T")


async def assert_eventually(
    check: Callable[[], Awaitable[None]],
    *,
    within: timedelta = timedelta(seconds=10),
    interval: timedelta = timedelta(milliseconds=100),
) -> None:
    """Run `check` until it stops raising AssertionError; past `within` its last AssertionError is raised."""
    deadline = time.monotonic() + within.total_seconds()
    while True:
        try:
            await check()
            return
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        await asyncio.sleep(interval.total_seconds())


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, tries: int = 150) -> T:
    """Poll until `probe` gives a value (not None), and return it."""
    for _ in range(tries):
        found = await probe()
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_until(check: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """The blocking form, for synchronous tests (a live server in another thread)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
