"""Legal holds, the held filter and "as it stood on" through the API and the auditor pages, on the real worker."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from temporalio.client import Client

from peer_review.domain.register import EntryKind
from peer_review.records import retention
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from tests.helpers import AUDITOR, FOCAL, REFERRER, REVIEWER
from tests.helpers.retention import closed_review
from tests.helpers.web import as_

HTML = {"Accept": "text/html"}


@pytest.fixture
async def closed(http: httpx.AsyncClient, client: Client, settings: Settings, store: RecordsStore) -> str:
    """A review withdrawn by its referrer (S300), recorded as closed (the `http` fixture's worker runs it)."""
    return await closed_review(PeerReviewClient(client, settings), store)


async def held_ids(http: httpx.AsyncClient, staff_id: str) -> list[str]:
    response = await http.get("/referrals", params={"held": "true"}, headers=as_(staff_id))
    assert response.status_code == 200, response.text
    return [review["referral_id"] for review in response.json()]


async def test_hold_and_release_follow_the_record_rules_and_are_in_the_register(
    http: httpx.AsyncClient, closed: str, store: RecordsStore
) -> None:
    reason = {"reason": "Coroner's inquest opened"}
    refused = await http.post(f"/referrals/{closed}/hold", json=reason, headers=as_(REFERRER))
    assert refused.status_code == 403
    assert refused.json()["kind"] == "NotPermitted"
    assert "only the auditor or focal point may hold" in refused.json()["detail"]

    blank = await http.post(f"/referrals/{closed}/hold", json={"reason": "  "}, headers=as_(AUDITOR))
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    missing = await http.post(f"/referrals/{closed}/hold", json={}, headers=as_(AUDITOR))
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    extra = await http.post(f"/referrals/{closed}/hold", json={**reason, "actor": FOCAL}, headers=as_(AUDITOR))
    assert extra.status_code == 422  # who acts is the token's subject, never the body
    assert await retention.register_entries(store, closed) == []  # refusals change nothing

    held = await http.post(f"/referrals/{closed}/hold", json=reason, headers=as_(AUDITOR))
    assert held.status_code == 200, held.text
    assert held.json()["held"] is True and held.json()["referral_id"] == closed
    again = await http.post(f"/referrals/{closed}/hold", json=reason, headers=as_(FOCAL))
    assert again.status_code == 409 and "already under a legal hold" in again.json()["detail"]
    unknown = await http.post("/referrals/PR-NO-SUCH/hold", json=reason, headers=as_(AUDITOR))
    assert unknown.status_code == 404

    assert await held_ids(http, AUDITOR) == [closed]
    assert await held_ids(http, REFERRER) == [closed]  # their own referral
    assert await held_ids(http, REVIEWER) == []  # the read rule: not theirs to see

    released = await http.post(f"/referrals/{closed}/release", json={"reason": "Inquest closed"}, headers=as_(FOCAL))
    assert released.status_code == 200 and released.json()["held"] is False
    assert await held_ids(http, AUDITOR) == []
    not_held = await http.post(f"/referrals/{closed}/release", json=reason, headers=as_(FOCAL))
    assert not_held.status_code == 409

    entries = await retention.register_entries(store, closed)
    assert [(e.entry.kind, e.entry.actor, e.entry.document["proven_by"]) for e in entries] == [
        (EntryKind.HOLD, AUDITOR, f"API sign-in of {AUDITOR}"),
        (EntryKind.RELEASE, FOCAL, f"API sign-in of {FOCAL}"),
    ]
    assert entries[1].entry.seq == released.json()["register_seq"]


async def test_status_as_of_rebuilds_the_review_from_the_record(
    http: httpx.AsyncClient, closed: str, store: RecordsStore
) -> None:
    record = await store.audit_record(closed)
    assert record is not None
    events = [row.event for row in record.events]
    referred_at, closed_at = events[0].at, next(e.at for e in events if e.action == "withdraw")

    def at(moment: object) -> dict[str, str]:
        return {"as_of": str(moment).replace(" ", "T")}

    before = await http.get(f"/referrals/{closed}", params=at(referred_at - timedelta(seconds=1)), headers=as_(AUDITOR))
    assert before.status_code == 404 and "had not been referred" in before.json()["detail"]
    early = await http.get(f"/referrals/{closed}", params=at(referred_at), headers=as_(AUDITOR))
    assert early.status_code == 200 and early.json()["status"] != "closed" and early.json()["decisions"] == []
    end = await http.get(f"/referrals/{closed}", params=at(closed_at), headers=as_(REFERRER))
    assert end.status_code == 200
    assert (end.json()["status"], end.json()["outcome"]) == ("closed", "withdrawn")
    assert [d["action"] for d in end.json()["decisions"]] == ["withdraw"]
    day = await http.get(f"/referrals/{closed}", params={"as_of": closed_at.date().isoformat()}, headers=as_(AUDITOR))
    assert day.json()["status"] == "closed"  # a date alone is the end of that day

    bad = await http.get(f"/referrals/{closed}", params={"as_of": "last tuesday"}, headers=as_(AUDITOR))
    assert bad.status_code == 422 and bad.json()["field"] == "as_of"
    assert (await http.get(f"/referrals/{closed}", params=at(closed_at), headers=as_(REVIEWER))).status_code == 403


async def test_the_auditor_pages_filter_on_held_and_show_the_review_as_it_stood(
    http: httpx.AsyncClient, closed: str, store: RecordsStore
) -> None:
    auditor = {**HTML, **as_(AUDITOR)}
    assert closed not in (await http.get("/audit", params={"held": "yes"}, headers=auditor)).text
    await http.post(f"/referrals/{closed}/hold", json={"reason": "Ombudsman complaint"}, headers=as_(AUDITOR))
    held_page = await http.get("/audit", params={"held": "yes"}, headers=auditor)
    assert held_page.status_code == 200 and closed in held_page.text and "Legal hold" in held_page.text
    assert 'id="held" name="held" value="yes" checked' in held_page.text

    record = await store.audit_record(closed)
    assert record is not None
    closed_at = next(row.event.at for row in record.events if row.event.action == "withdraw")
    moment = (closed_at + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")  # the field has whole seconds
    timeline = await http.get(f"/audit/reviews/{closed}", params={"as_of": moment}, headers=auditor)
    assert timeline.status_code == 200
    assert 'type="datetime-local"' in timeline.text and "<script" not in timeline.text
    assert "As it stood at" in timeline.text and "Resolved locally" in timeline.text
    plain = await http.get(f"/audit/reviews/{closed}", headers=auditor)
    assert plain.status_code == 200 and "As it stood at" not in plain.text

    bad = await http.get(f"/audit/reviews/{closed}", params={"as_of": "soon"}, headers=auditor)
    assert bad.status_code == 422 and "as_of: enter a date" in bad.text
    early = await http.get(f"/audit/reviews/{closed}", params={"as_of": "2000-01-01"}, headers=auditor)
    assert early.status_code == 422 and "had not been referred by" in early.text
