"""Headless Chromium (Debian's package, driven by Playwright) against a live server on a free port."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright
from temporalio.testing import WorkflowEnvironment

from peer_review.temporal.client import PeerReviewClient
from tests.helpers import ROOT
from tests.helpers.web import LiveServer, api_settings, settings_for

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def server(env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    target = env.client.service_client.config.target_host
    settings = settings_for(target, tmp_path_factory.mktemp("browser"))
    with LiveServer(settings, api_settings(dev_login=True)) as live:
        yield live


@pytest.fixture
def reviews(env: WorkflowEnvironment, server: LiveServer) -> PeerReviewClient:
    """Sets up reviews on the live server's task queue (its worker runs them)."""
    return PeerReviewClient(env.client, server.settings)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        # `make test` installs it (make browser-deps); a missing browser is a failure, never a silent skip.
        pytest.fail("Chromium is not installed: run `make browser-deps` (apt-get install chromium chromium-driver)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile per test, so each person signs in on their own."""
    fresh = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    fresh.set_default_timeout(10_000)
    yield fresh
    await fresh.close()


def save_screenshot(png: bytes, name: str) -> None:
    """Kept as a test artefact; copied to docs/screenshots/ when PEER_REVIEW_UPDATE_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(png)
    if os.environ.get("PEER_REVIEW_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ARTIFACTS / name, SCREENSHOTS / name)
