"""A private Temporal dev server for one benchmark run, on a free port (never the lead's 7233/8233).

It is the project's one launcher (peer_review.temporal.dev_server), with a client that speaks the benchmark's
data converter.
"""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.converter import DataConverter

from peer_review.temporal.dev_server import DevServer


async def start_dev_server(workdir: Path, *, persisted: bool, converter: DataConverter) -> tuple[DevServer, Client]:
    """Start the server and return it with a connected client once the namespace and search attributes answer."""
    server = DevServer(log_file=workdir / "temporal-server.log", db_file=workdir / "temporal.db" if persisted else None)
    await server.start()
    try:
        client = await Client.connect(server.address, data_converter=converter)
    except BaseException:
        server.stop()
        raise
    return server, client
