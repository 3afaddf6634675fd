"""Readying the API before its first request, so the first people after a start or a deploy get pages as quick
as everyone after them.

Left to itself, the first request pays for set-up that is done once per process: FastAPI prepares every route
(its parameters' validators) when a request first goes through the routes, and Jinja compiles each template the
first time it is used. Measured on a fresh `peer-review api`, ten people opening their pages at once waited
0.67-0.79 s at the median (up to 1.1 s), against about 65 ms once warm. `prepare` does that work before the
server listens; `connect` opens the connections to Temporal and the records database in the background, so a
server that comes up before them still starts (and answers 503 until they answer, as before).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from starlette.types import ASGIApp, Message

from peer_review.temporal.client import ServiceUnavailable
from peer_review.web.render import templates
from peer_review.web.services import Services

log = structlog.get_logger("api")

# A path no route matches: routing goes through every route to find that out, preparing each on the way.
UNMATCHED_PATH = "/.warm-up"


async def prepare(app: ASGIApp) -> int:
    """Compile every page template and have the app route one request, in this process, without a network;
    returns the status the app answered that request with (404, as no route matches it)."""
    for name in templates.env.list_templates():
        templates.env.get_template(name)
    answered = await _route_once(app)
    if answered != HTTPStatus.NOT_FOUND:
        log.warning("api warm-up: a request for no page was not answered 404", status=answered)
    return answered


async def connect(services: Services) -> None:
    """Connect to Temporal and open the records database, as the first request would; a service that is not up
    yet is left to the first request that needs it."""
    try:
        await services.reviews()
        async with services.records():
            pass
    except ServiceUnavailable as unavailable:
        log.info("api warm-up: not connected yet", reason=str(unavailable))
    except Exception as error:  # best effort: the first request meets the same failure and reports it
        log.warning("api warm-up: could not connect", error=f"{type(error).__name__}: {error}")


async def _route_once(app: ASGIApp) -> int:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": UNMATCHED_PATH,
        "raw_path": UNMATCHED_PATH.encode(),
        "query_string": b"",
        "root_path": "",
        # As a browser asks: the answer is the HTML error page, so its rendering is readied too.
        "headers": [(b"host", b"localhost"), (b"accept", b"text/html")],
        "client": None,
        "server": None,
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]
