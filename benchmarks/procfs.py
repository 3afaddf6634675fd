"""Memory and CPU of another process, read from /proc (Linux), so no extra dependency is needed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) in MB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def cpu_seconds(pid: int) -> float:
    # Fields after the parenthesised command name: utime and stime are the 12th and 13th of them.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def wait_until_idle(pid: int, *, below: float = 0.03, window: float = 1.0, patience: float = 60.0) -> float:
    """Wait until the process uses less than `below` of one core over `window` (at most `patience` seconds)."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while loop.time() - began < patience:
        before = cpu_seconds(pid)
        await asyncio.sleep(window)
        if (cpu_seconds(pid) - before) / window < below:
            break
    return loop.time() - began


def machine_memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0
