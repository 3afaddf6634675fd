"""The pages' rules without a browser: sign-in, roles, CSRF, search validation and security headers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from temporalio.client import Client

from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.web.app import create_app
from peer_review.web.auth import SESSION_COOKIE
from tests.helpers import chain_key, eventually, recorded_awaiting_chair, referral
from tests.helpers.staff import AUDITOR, CHAIR, REFERRER, REVIEWER
from tests.helpers.web import api_settings, as_

HTML = {"Accept": "text/html"}


def html_as(staff_id: str) -> dict[str, str]:
    return {**HTML, **as_(staff_id)}


async def test_pages_take_the_proxys_bearer_token_and_check_roles(http: httpx.AsyncClient) -> None:
    assert (await http.get("/login", headers=HTML)).status_code == 404  # the dev sign-in is off
    anonymous = await http.get("/chair", headers=HTML)
    assert anonymous.status_code == 401 and "identity provider" in anonymous.text
    home = await http.get("/", headers=html_as(CHAIR))
    assert home.status_code == 200 and "Chair inbox" in home.text
    for header in ("content-security-policy", "x-frame-options", "x-content-type-options"):
        assert header in home.headers
    assert home.headers["cache-control"] == "no-store"
    assert (await http.get("/reviewer", headers=html_as(AUDITOR))).status_code == 403
    assert (await http.get("/audit", headers=html_as(REVIEWER))).status_code == 403
    assert (await http.get("/chair", headers=html_as(REFERRER))).status_code == 403
    forged = await http.post("/chair/reviews/PR-1/approve", data={"rationale": "x"}, headers=html_as(CHAIR))
    assert forged.status_code == 403 and "expired or came from another site" in forged.text


async def test_the_auditor_search_filters_and_reports_bad_values(http: httpx.AsyncClient) -> None:
    case = referral("complex-issue")
    started = await http.post("/referrals", json=case.model_dump(mode="json"), headers=as_(REFERRER))
    assert started.status_code == 201
    today = datetime.now(UTC).date().isoformat()
    query = {"status": "awaiting_chair_decision", "osn": "north-east", "reason": "complex_issue", "from": today}

    async def found() -> str | None:
        page = await http.get("/audit", params=query, headers=html_as(AUDITOR))
        return page.text if case.referral_id in page.text else None

    await eventually(found, "the referral to be recorded")
    other_reason = await http.get("/audit", params={**query, "reason": "other"}, headers=html_as(AUDITOR))
    assert case.referral_id not in other_reason.text
    before = await http.get("/audit", params={**query, "from": "", "to": "2000-01-01"}, headers=html_as(AUDITOR))
    assert case.referral_id not in before.text
    bad = await http.get("/audit", params={"from": "yesterday", "status": "lost"}, headers=html_as(AUDITOR))
    assert bad.status_code == 422 and "enter a date as YYYY-MM-DD" in bad.text and "unknown status" in bad.text
    timeline = await http.get(f"/audit/reviews/{case.referral_id}", headers=html_as(AUDITOR))
    assert timeline.status_code == 200 and "Timeline of" in timeline.text


async def test_dev_sign_in_sets_a_cookie_that_reads_but_never_acts(
    client: Client, settings: Settings, store: RecordsStore
) -> None:
    app = create_app(settings, api_settings(dev_login=True), reviews=PeerReviewClient(client, settings), store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages.test") as browser:
        assert (await browser.get("/", headers=HTML)).headers["location"] == "/login"
        unknown = await browser.post("/login", data={"staff_id": "S999"}, headers=HTML)
        assert unknown.status_code == 422 and "not in the staff directory" in unknown.text
        signed_in = await browser.post("/login", data={"staff_id": AUDITOR}, headers=HTML)
        assert signed_in.status_code == 303 and SESSION_COOKIE in signed_in.cookies
        home = await browser.get("/", headers=HTML)
        assert home.status_code == 200 and "Aud Itor" in home.text and "curl -H" in home.text
        assert (await browser.get("/referrals/NO-SUCH-REF/audit")).status_code == 404  # the cookie reads
        acting = await browser.post("/referrals/NO-SUCH-REF/withdraw", json={"reason": "x"})
        assert acting.status_code == 401  # but the API's actions take a bearer token only (no CSRF)
        await browser.post("/logout", headers=HTML)
        assert (await browser.get("/", headers=HTML)).status_code == 303


async def test_long_lists_come_a_page_at_a_time_with_links_that_keep_the_filters(
    client: Client, settings: Settings, store: RecordsStore
) -> None:
    ids = [f"PR-PAGED-{n:02d}" for n in range(51)]
    for referral_id in ids:
        await store.write_batch(recorded_awaiting_chair(referral_id), chain_key())
    app = create_app(settings, api_settings(), reviews=PeerReviewClient(client, settings), store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages.test") as browser:
        first = await browser.get("/chair", headers=html_as(CHAIR))
        assert "(51; showing 1 to 50)" in first.text and "Page 1 of 2" in first.text
        assert 'href="/chair?page=2"' in first.text and "Previous page" not in first.text
        second = await browser.get("/chair", params={"assign_page": 1, "page": 2}, headers=html_as(CHAIR))
        assert "(51; showing 51 to 51)" in second.text and "Next page" not in second.text
        assert 'href="/chair?assign_page=1&amp;page=1"' in second.text
        shown = [i for i in ids if f">{i}</a>" in first.text] + [i for i in ids if f">{i}</a>" in second.text]
        assert sorted(shown) == ids
        searched = await browser.get("/audit", params={"osn": "north-east"}, headers=html_as(AUDITOR))
        assert "51; showing 1 to 50 reviews found" in searched.text
        assert 'href="/audit?osn=north-east&amp;page=2"' in searched.text
        refused = await browser.get("/chair", params={"page": 0}, headers=html_as(CHAIR))
        assert refused.status_code == 422 and "page" in refused.text
