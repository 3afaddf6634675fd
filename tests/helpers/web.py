"""For the web and browser tests: API settings, bearer tokens, and a live server with its worker in a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import uvicorn
from pydantic import SecretStr
from temporalio.client import Client

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.temporal.converter import encrypted_converter
from peer_review.web.app import create_app
from peer_review.web.config import ApiSettings
from tests.helpers.factories import EXAMPLES, TEST_KEY_FILE, referral
from tests.helpers.staff import AUDITOR, REFERRER
from tests.helpers.temporal import worker_settings
from tests.helpers.waiting import eventually
from worker import build_worker

SECRET = "tests-only-secret-" + "0123456789abcdef" * 2


def unreachable_settings() -> Settings:
    """Nothing listens on port 1: Temporal and the (PostgreSQL) records database are both down."""
    return Settings(
        temporal_address="127.0.0.1:1",
        records_url="postgresql+asyncpg://nobody@127.0.0.1:1/records",
        directory=EXAMPLES / "directory.yaml",
        key_file=TEST_KEY_FILE,
    )


def api_settings(**changes: Any) -> ApiSettings:
    values: dict[str, Any] = {"jwt_secret": SecretStr(SECRET), "dev_login": False, **changes}
    return ApiSettings(**values)


def token(staff_id: str, *, key: Any = SECRET, algorithm: str = "HS256", **claims: Any) -> str:
    body = {"sub": staff_id, "exp": datetime.now(UTC) + timedelta(minutes=10), **claims}
    return jwt.encode(body, key, algorithm=algorithm)


def as_(staff_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(staff_id)}"}


def settings_for(env_target: str, folder: Path) -> Settings:
    return worker_settings(folder, temporal_address=env_target)


def new_referral(kind: str = "persistent", **changes: Any) -> dict[str, Any]:
    """A fresh referral as JSON; `changes` may make it invalid (it is not validated here)."""
    return {**referral(kind).model_dump(mode="json"), **changes}


async def start(http: httpx.AsyncClient, kind: str = "persistent", **changes: Any) -> str:
    body = new_referral(kind, **changes)
    response = await http.post("/referrals", json=body, headers=as_(REFERRER))
    assert response.status_code == 201, response.text
    referral_id: str = body["referral_id"]
    return referral_id


async def post(http: httpx.AsyncClient, path: str, who: str, body: Any = None, expect: int = 200) -> dict[str, Any]:
    response = await http.post(path, json=body, headers=as_(who))
    assert response.status_code == expect, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def wait_for_status(http: httpx.AsyncClient, referral_id: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        # An auditor reads every review (the read rule); a Chair only their OSN's.
        response = await http.get(f"/referrals/{referral_id}", headers=as_(AUDITOR))
        view: dict[str, Any] = response.json()
        return view if response.status_code == 200 and view["status"] == status else None

    return await eventually(probe, f"{referral_id} to reach {status}")


class LiveServer:
    """uvicorn and a worker on their own event loop in a background thread, on a free port.

    Their own loop keeps them serving while synchronous tests (schemathesis) block the test's loop.
    """

    def __init__(self, settings: Settings, api: ApiSettings) -> None:
        self.settings = settings
        self.api = api
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="live-api", daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(30) or self._error:
            raise RuntimeError(f"the live API did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the test thread by __enter__
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        converter = encrypted_converter(self.settings.key_file)
        client = await Client.connect(self.settings.temporal_address, data_converter=converter)
        store = RecordsStore.from_url(self.settings.records_url)
        await store.create_schema()
        app = create_app(self.settings, self.api, reviews=PeerReviewClient(client, self.settings), store=store)
        # Off the main thread uvicorn leaves signals alone, so the test process keeps Ctrl-C.
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        async with build_worker(client, self.settings, store):
            serving = asyncio.create_task(server.serve(sockets=[self._socket]))
            for _ in range(1500):  # uvicorn has no "started" event to wait on
                if server.started or serving.done():
                    break
                await asyncio.sleep(0.02)
            self._ready.set()
            stopping = asyncio.create_task(self._stop.wait())
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
            server.should_exit = True
            stopping.cancel()
            await serving
        await store.close()
