"""Heartbeats for activities whose length is not fixed (an SMTP send, a disposal batch): a worker that died while
one ran is noticed after the workflow's heartbeat timeout, not after the much longer start-to-close timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio import activity


@contextlib.asynccontextmanager
async def beating(every: float) -> AsyncIterator[None]:
    """Heartbeat every `every` seconds while the body runs; a body that ends sooner costs no heartbeat at all."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            activity.heartbeat()

    beater = asyncio.create_task(beat())
    try:
        yield
    finally:
        beater.cancel()
