"""The HTTP API and the pages, as one FastAPI app over the same PeerReviewClient as the CLI.

`create_app()` builds it; `serve(settings, stop)` readies it and runs it under uvicorn inside another asyncio
program (`make run`); `peer-review api` runs it on its own (peer_review/cli/admin.py). Routes: JSON under
/referrals (peer_review/web/routes/referrals.py, documented in docs/openapi.json), pages elsewhere (peer_review/web/).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from peer_review.foreground import freeze_start_up_heap
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient, ReviewError
from peer_review.web import warm_up
from peer_review.web.auth import Unauthenticated
from peer_review.web.config import ApiSettings
from peer_review.web.deps import API_PREFIXES
from peer_review.web.errors import Forbidden, Problem, problem_for, validation_problem
from peer_review.web.render import STATIC, render
from peer_review.web.routes import holds, pages, recommendations, referrals, reports
from peer_review.web.security_headers import SecurityHeaders
from peer_review.web.services import Services

__all__ = ["ApiSettings", "create_app", "local_api_settings", "serve"]

API_VERSION = "0.1.0"
DESCRIPTION = """Peer Reviews of complaint handling, run as Temporal workflows.

Every request carries `Authorization: Bearer <JWT>`; the token's `sub` is the caller's staff id, and that
is who acts: request bodies never name the actor. Errors share one shape (`Problem`): 422 invalid input
(`field` names it), 403 not permitted for this person, 409 not allowed in the review's current status,
404 unknown referral or recommendation, 503 Temporal or the records database unreachable. See docs/api.md.
"""


def create_app(
    settings: Settings | None = None,
    api: ApiSettings | None = None,
    *,
    reviews: PeerReviewClient | None = None,
    store: RecordsStore | None = None,
) -> FastAPI:
    """The app; pass `reviews`/`store` to share connections (tests), or let it connect on first use."""
    services = Services(settings or Settings(), api or ApiSettings(), reviews, store)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await services.close()

    app = FastAPI(
        title="Peer Review API",
        version=API_VERSION,
        description=DESCRIPTION,
        # Swagger UI and ReDoc load scripts from a CDN: internal-only pages use no external assets.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.include_router(referrals.router)
    app.include_router(holds.router)
    app.include_router(recommendations.router)
    app.include_router(reports.router)
    app.include_router(reports.pages)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith((*API_PREFIXES, "/openapi.json")) or not _wants_html(request)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _problem(status: int, problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem.model_dump(exclude_none=True), status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    def page_error(request: Request, status: int, message: str) -> Response:
        return render(request, "error.html", None, status, status=status, message=message)

    @app.exception_handler(ReviewError)
    async def review_error(request: Request, error: ReviewError) -> Response:
        status, problem = problem_for(error)
        if _is_api(request):
            return _problem(status, problem, {"Retry-After": "5"} if status == 503 else None)
        return page_error(request, status, problem.detail)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, error: Unauthenticated) -> Response:
        if _is_api(request):
            problem = Problem(detail=str(error), kind="Unauthenticated")
            return _problem(401, problem, {"WWW-Authenticate": "Bearer"})
        if app.state.services.api.dev_login:
            return RedirectResponse("/login", status_code=303)
        return page_error(request, 401, "Sign in through the organisation's identity provider to use these pages.")

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, error: Forbidden) -> Response:
        if _is_api(request):
            return _problem(403, Problem(detail=str(error), kind="NotPermitted", field=None))
        return page_error(request, 403, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problem = validation_problem(error.errors())
        if _is_api(request):
            return _problem(422, problem)
        return page_error(request, 422, problem.detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        detail = str(error.detail)
        if error.status_code == 400:
            # A body that is not JSON at all is invalid input like any other: 422, naming the body.
            problem = Problem(detail=f"body: {detail.lower()}", kind="InvalidInput", field="body")
            return _problem(422, problem) if _is_api(request) else page_error(request, 422, problem.detail)
        if _is_api(request):
            kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(error.status_code, "Error")
            return _problem(error.status_code, Problem(detail=detail, kind=kind), dict(error.headers or {}))
        return page_error(request, error.status_code, detail)


def local_api_settings() -> ApiSettings:
    """For `make run` on a developer's machine: the dev sign-in page on, unless real keys are configured."""
    try:
        return ApiSettings()
    except ValidationError:
        return ApiSettings(dev_login=True)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside another program: the host program owns SIGINT/SIGTERM and says when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(
    settings: Settings, stop: asyncio.Event, api: ApiSettings | None = None, *, freeze_start_up: bool = False
) -> None:
    """Serve the API and pages until `stop` is set, readied first (peer_review/web/warm_up.py).

    `freeze_start_up` is for a process that runs the API alone (`peer-review api`): its start-up heap, readied, is
    frozen (peer_review.foreground.freeze_start_up_heap). Not beside the worker (`make run`), whose cached workflows
    it would freeze too.
    """
    api = api or ApiSettings()
    app = create_app(settings, api)
    await warm_up.prepare(app)
    if freeze_start_up:
        freeze_start_up_heap()
    connecting = asyncio.create_task(warm_up.connect(app.state.services))
    config = uvicorn.Config(app, host=api.api_host, port=api.api_port, log_config=None)
    server = _EmbeddedServer(config)
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    connecting.cancel()
    await serving
