"""The service's own processes for the scale phases, as `make run` and deploy/ run them: the real
`peer-review-worker` and `peer-review api`, each in its own process, read from the outside (/proc, /metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.stack import spawn, stop_process, wait_for_log
from peer_review.temporal.dev_server import free_port

BIN = Path(sys.executable).parent
WORKER_READY = "worker started"


@dataclass
class ServiceProcess:
    """One of the service's processes: run with `environment`, logging into the folder `logs`, serving HTTP on
    `port` (a free one unless given), stopped gracefully."""

    environment: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{type(self).__name__} has not been started"
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.process is not None:
            await asyncio.to_thread(stop_process, self.process)


@dataclass
class WorkerProcess(ServiceProcess):
    """`peer-review-worker` with a Prometheus endpoint on `port`; it can be killed (-9) and replaced by a new one."""

    starts: int = 0

    @property
    def metrics_url(self) -> str:
        return f"{self.url}/metrics"

    async def start(self) -> float:
        """Start a worker and return the seconds until it polls (its log says it started)."""
        self.starts += 1
        log_path = self.logs / f"worker-scale-{self.starts}.log"
        environment = {**self.environment, "PEER_REVIEW_METRICS_PORT": str(self.port)}
        began = time.perf_counter()
        self.process = spawn([str(BIN / "peer-review-worker")], environment, log_path)
        await wait_for_log(log_path, WORKER_READY, self.process)
        return time.perf_counter() - began

    def kill(self) -> None:
        """kill -9: no graceful shutdown, activities and workflow tasks in flight are lost with the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    async def counters(self, *names: str) -> dict[str, float]:
        """Sums over every label set of the named Prometheus counters (the SDK's, e.g. sticky cache hits)."""
        async with httpx.AsyncClient(timeout=10) as http:
            text = (await http.get(self.metrics_url)).text
        totals = dict.fromkeys(names, 0.0)
        for line in text.splitlines():
            metric, _, value = line.partition(" ")
            name = metric.partition("{")[0]
            if name in totals:
                totals[name] += float(value)
        return totals


@dataclass
class ApiProcess(ServiceProcess):
    """`peer-review api` on `port`: spawned early (it starts while other work runs), waited for when needed."""

    def spawn(self) -> None:
        self.process = spawn(
            [str(BIN / "peer-review"), "api", "--port", str(self.port)], self.environment, self.logs / "api.log"
        )

    async def ready(self, within: float = 60.0) -> None:
        """Wait until it answers."""
        assert self.process is not None, "the API has not been started"
        async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(within):
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"peer-review api exited early: {(self.logs / 'api.log').read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/openapi.json")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
