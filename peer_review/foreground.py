"""Running long-lived services in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
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
