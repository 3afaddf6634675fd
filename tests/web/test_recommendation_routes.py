"""The recommendations register and actions over HTTP, and the register page: a local recommendation taken from
proposed to verified by its owner and the OSN Chair, each refusal with its status, and reads scoped by the rule."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
from temporalio.client import Client

from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from tests.helpers import AUDITOR, CHAIR, LEEDS_TEAM_CONTACT, NATIONAL_LEAD, REFERRER, eventually
from tests.helpers.recommendations import signed_off, tracked
from tests.helpers.web import as_, token

OTHER_REVIEWER = "S401"  # reads none of this review's recommendations


def page_as(staff_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(staff_id)}", "Accept": "text/html"}


async def listed(http: httpx.AsyncClient, staff_id: str, **query: str) -> list[dict[str, Any]]:
    response = await http.get("/recommendations", params=query, headers=as_(staff_id))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_a_recommendation_through_the_api_with_each_refusal(
    http: httpx.AsyncClient, client: Client, settings: Settings
) -> None:
    reviews = PeerReviewClient(client, settings)
    r = await signed_off(reviews)
    local, national = f"{r.referral_id}-R1", f"{r.referral_id}-R2"
    await tracked(reviews, local)
    await tracked(reviews, national)

    async def registered() -> list[dict[str, Any]] | None:
        found = await listed(http, LEEDS_TEAM_CONTACT, owner="T-LEEDS-COMPLAINTS")
        return found if any(item["recommendation_id"] == local for item in found) else None

    mine = await eventually(registered, "the register to list the local recommendation")
    assert {item["owner"] for item in mine} == {"T-LEEDS-COMPLAINTS"}
    assert [item["recommendation_id"] for item in await listed(http, OTHER_REVIEWER)] == []
    nationals = await listed(http, NATIONAL_LEAD, level="national")
    assert [item["recommendation_id"] for item in nationals if item["referral_id"] == r.referral_id] == [national]

    shown = await http.get(f"/recommendations/{local}", headers=as_(LEEDS_TEAM_CONTACT))
    assert shown.status_code == 200 and shown.json()["status"] == "proposed"
    assert (await http.get(f"/recommendations/{local}", headers=as_(OTHER_REVIEWER))).status_code == 403
    assert (await http.get(f"/recommendations/{r.referral_id}-R9", headers=as_(AUDITOR))).status_code == 404
    bad = await http.get("/recommendations/not-a-rec", headers=as_(AUDITOR))
    assert bad.status_code == 422 and bad.json()["field"] == "rec_id"

    wrong_person = await http.post(f"/recommendations/{local}/accept", headers=as_(REFERRER))
    assert wrong_person.status_code == 403 and "only the owner may accept" in wrong_person.json()["detail"]
    wrong_status = await http.post(f"/recommendations/{local}/start", headers=as_(LEEDS_TEAM_CONTACT))
    assert wrong_status.status_code == 409
    no_rationale = await http.post(f"/recommendations/{local}/decline", json={}, headers=as_(LEEDS_TEAM_CONTACT))
    assert no_rationale.status_code == 422 and no_rationale.json()["field"] == "rationale"
    # The body never names who acts: the token's subject does.
    smuggled = await http.post(
        f"/recommendations/{local}/decline", json={"rationale": "x", "actor": CHAIR}, headers=as_(LEEDS_TEAM_CONTACT)
    )
    assert smuggled.status_code == 422

    steps = [
        ("accept", LEEDS_TEAM_CONTACT, None, "accepted"),
        ("start", LEEDS_TEAM_CONTACT, None, "in_progress"),
        ("implement", LEEDS_TEAM_CONTACT, {"evidence": "Audit of March attached"}, "implemented"),
        ("verify", CHAIR, None, "verified"),
    ]
    for command, actor, body, status in steps:
        done = await http.post(f"/recommendations/{local}/{command}", json=body, headers=as_(actor))
        assert done.status_code == 200, done.text
        assert done.json()["status"] == status
    again = await http.post(f"/recommendations/{local}/verify", headers=as_(CHAIR))
    assert again.status_code == 409

    async def verified_in_csv() -> list[dict[str, str]] | None:
        response = await http.get("/recommendations", params={"format": "csv"}, headers=as_(AUDITOR))
        rows = list(csv.DictReader(io.StringIO(response.text)))
        return rows if any(row["recommendation_id"] == local and row["status"] == "verified" for row in rows) else None

    rows = await eventually(verified_in_csv, "the register to show the verified recommendation")
    assert {"recommendation_id", "status", "due_at", "overdue", "owner"} <= set(rows[0])


async def test_the_register_page_offers_each_person_their_actions(
    http: httpx.AsyncClient, client: Client, settings: Settings
) -> None:
    reviews = PeerReviewClient(client, settings)
    r = await signed_off(reviews)
    local = f"{r.referral_id}-R1"
    await tracked(reviews, local)

    async def page_listing() -> str | None:
        response = await http.get("/register", headers=page_as(LEEDS_TEAM_CONTACT))
        assert response.status_code == 200
        return response.text if f'id="{local}"' in response.text else None

    page = await eventually(page_listing, "the register page to list the recommendation")
    assert "<script" not in page
    assert f'action="/register/{local}/accept"' in page and f'action="/register/{local}/decline"' in page
    # The Chair of the OSN reads it, but has nothing to do while it is proposed.
    chair_page = (await http.get("/register", headers=page_as(CHAIR))).text
    assert f'id="{local}"' in chair_page and f'action="/register/{local}/accept"' not in chair_page
    bad = await http.get("/register", params={"status": "done"}, headers=page_as(CHAIR))
    assert bad.status_code == 422 and "status: unknown status" in bad.text

    # A form carries the CSRF token of the signed-in session (one bearer token here), or is refused.
    owner = {"Authorization": f"Bearer {token(LEEDS_TEAM_CONTACT)}", "Accept": "text/html"}
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', (await http.get("/register", headers=owner)).text)
    assert csrf
    forged = await http.post(f"/register/{local}/accept", data={"csrf": "0" * 32}, headers=owner)
    assert forged.status_code == 403
    missing = await http.post(f"/register/{local}/decline", data={"csrf": csrf.group(1)}, headers=owner)
    assert missing.status_code == 422 and "rationale: required to decline" in missing.text
    accepted = await http.post(f"/register/{local}/accept", data={"csrf": csrf.group(1)}, headers=owner)
    assert accepted.status_code == 200 and "accept done. It is now accepted" in accepted.text
    assert (await reviews.recommendation(local)).status == "accepted"
