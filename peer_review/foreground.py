"""Running long-lived services in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Awaitable, Callable

Service = Callable[[asyncio.Event], Awaitable[None]]


def run_until_signalled(*services: Service) -> None:
    """Run the services together; a signal sets their shared stop event so each can wind down cleanly."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await asyncio.gather(*(service(stop) for service in services))

    asyncio.run(main())


def freeze_start_up_heap() -> None:
    """For a long-lived process once it has started: what is loaded by now (modules, classes, schemas, routes) lives
    as long as the process, and frozen it is left out of every later full garbage collection, which then walks only
    what the process makes afterwards. Only where nothing transient is alive yet: a frozen object is never freed."""
    gc.collect()
    gc.freeze()
