"""Every read against every kind of person, through the API and the pages: exactly the read rule's answers, each
one written to the access log; and external staff are kept out of everything."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from peer_review.records.store import RecordsStore
from tests.helpers import assert_eventually, eventually
from tests.helpers.staff import OUTSIDERS, READERS
from tests.helpers.web import as_, new_referral, post, wait_for_status

HTML = {"Accept": "text/html"}

PEOPLE = READERS
# The JSON reads of one review, and the pages that show a whole review to the people they are for.
API_READS = ["/referrals/{ref}", "/referrals/{ref}/audit", "/referrals/{ref}/audit?format=csv"]


@pytest.fixture
async def review(http: httpx.AsyncClient) -> str:
    body = new_referral("complex-issue")
    assert (await http.post("/referrals", json=body, headers=as_("S300"))).status_code == 201
    ref: str = body["referral_id"]
    await wait_for_status(http, ref, "awaiting_chair_decision")
    await post(http, f"/referrals/{ref}/approve", "S100")
    await post(http, f"/referrals/{ref}/assign-reviewer", "S100", {"reviewer": "S400"})

    async def recorded() -> bool | None:
        audit = await http.get(f"/referrals/{ref}/audit", headers=as_("S500"))
        return True if audit.status_code == 200 and "assign_reviewer" in audit.text else None

    await eventually(recorded, "the assignment to be recorded")
    return ref


async def test_every_read_against_every_person(http: httpx.AsyncClient, review: str, store: RecordsStore) -> None:
    seen: dict[str, list[int]] = {}
    for person, (staff_id, allowed) in PEOPLE.items():
        for read in API_READS:
            response = await http.get(read.format(ref=review), headers=as_(staff_id))
            assert response.status_code == (200 if allowed else 403), (person, read, response.text)
            seen.setdefault(person, []).append(response.status_code)
    # The pages: the auditor timeline for whoever may read it, the Chair's review page for the OSN's Chairs.
    for person, (staff_id, allowed) in PEOPLE.items():
        page = await http.get(f"/audit/reviews/{review}", headers={**HTML, **as_(staff_id)})
        assert page.status_code == (200 if allowed else 403), (person, page.status_code)
    for staff_id, expected in (("S100", 200), ("S101", 200), ("S110", 403)):
        assert (await http.get(f"/chair/reviews/{review}", headers={**HTML, **as_(staff_id)})).status_code == expected
    for staff_id, expected in (("S400", 200), ("S401", 403)):
        assert (
            await http.get(f"/reviewer/reviews/{review}", headers={**HTML, **as_(staff_id)})
        ).status_code == expected
    # Every read of the record is in the access log: who, what, when, and whether it was allowed.
    log = await store.access_entries(review)
    for person, (staff_id, allowed) in PEOPLE.items():
        mine = [entry for entry in log if entry.reader == staff_id]
        assert {entry.what for entry in mine} >= {"status", "audit"}, person
        assert all(entry.allowed is allowed for entry in mine if entry.what in ("status", "audit")), person
        assert all(entry.at is not None and entry.proven_by == f"API sign-in of {staff_id}" for entry in mine)


async def test_the_listing_shows_each_person_what_they_may_read(http: httpx.AsyncClient, review: str) -> None:
    for person, (staff_id, allowed) in PEOPLE.items():

        async def listed(staff_id: str = staff_id, allowed: bool = allowed) -> list[str] | None:
            response = await http.get("/referrals", headers=as_(staff_id), params={"limit": 1000})
            refs = [item["referral_id"] for item in response.json()]
            # Visibility trails the workflow a little: wait for the review to show for those who may see it.
            return refs if review in refs or not allowed else None

        refs = await eventually(listed, f"{person}'s listing")
        assert (review in refs) is allowed, person


@pytest.mark.parametrize("outsider", list(OUTSIDERS))
async def test_outsiders_get_403_everywhere_and_are_logged(
    http: httpx.AsyncClient, store: RecordsStore, outsider: str
) -> None:
    staff_id = OUTSIDERS[outsider]
    answers: list[Any] = []
    for path in ("/referrals", "/referrals/PR-X", "/referrals/PR-X/audit"):
        answers.append((await http.get(path, headers=as_(staff_id))).status_code)
    answers.append(
        (await http.post("/referrals", json=new_referral(referred_by=staff_id), headers=as_(staff_id))).status_code
    )
    answers.append((await http.get("/", headers={**HTML, **as_(staff_id)})).status_code)
    assert answers == [403] * 5
    refusals = [entry for entry in await store.access_entries() if entry.reader == staff_id]
    assert len(refusals) >= 5 and not any(entry.allowed for entry in refusals)


async def test_an_integration_refers_on_behalf_of_the_named_referrer(http: httpx.AsyncClient) -> None:
    body = new_referral("persistent")
    started = await http.post("/referrals", json=body, headers=as_("I900"))
    assert started.status_code == 201, started.text
    ref = body["referral_id"]
    await wait_for_status(http, ref, "awaiting_chair_decision")

    # The record is written beside the workflow, never before a move: it may trail the status by a moment.
    async def recorded_with_its_proof() -> None:
        answer = await http.get(f"/referrals/{ref}/audit", headers=as_("S500"))
        assert answer.status_code == 200, answer.text
        assert answer.json()["events"][0]["proven_by"] == f"integration I900 for {body['referred_by']}"

    await assert_eventually(recorded_with_its_proof)
    # Staff who are not integrations refer only in their own name.
    someone_else = await http.post("/referrals", json=new_referral("persistent"), headers=as_("S302"))
    assert someone_else.status_code == 403 and "referred_by" in someone_else.json()["detail"]


async def test_a_retried_request_with_the_same_idempotency_key_returns_the_first_result(
    http: httpx.AsyncClient,
) -> None:
    body = new_referral("persistent")
    await http.post("/referrals", json=body, headers=as_("S300"))
    ref = body["referral_id"]
    await wait_for_status(http, ref, "awaiting_chair_decision")
    headers = {**as_("S100"), "Idempotency-Key": "approve-once-7f3a"}
    first = await http.post(f"/referrals/{ref}/approve", json={"rationale": "Go"}, headers=headers)
    again = await http.post(f"/referrals/{ref}/approve", json={"rationale": "Go"}, headers=headers)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    fresh = await http.post(f"/referrals/{ref}/approve", json={"rationale": "Go"}, headers=as_("S100"))
    assert fresh.status_code == 409  # a new request is judged afresh

    async def recorded() -> list[str] | None:
        audit = (await http.get(f"/referrals/{ref}/audit", headers=as_("S500"))).json()
        actions = [e["action"] for e in audit["events"]]
        return actions if "approve_rejected" in actions else None

    actions = await eventually(recorded, "the records to catch up")
    assert actions.count("approve") == 1 and actions.count("approve_rejected") == 1
