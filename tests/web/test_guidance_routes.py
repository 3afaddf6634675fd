"""The routes issue 14 adds, against a real dev server and worker: the decision by signal (202), adding a reason,
related reviews, local feedback, and a suicide referral that starts whatever the directory lacks."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import eventually, findings
from tests.helpers.staff import AUDITOR, CASEWORKER, CHAIR, DEPUTY, FOCAL, OTHER_REVIEWER, REFERRER, REVIEWER
from tests.helpers.web import as_, new_referral, post, start, wait_for_status

SITE_CONTACT = CASEWORKER


async def audit_events(http: httpx.AsyncClient, ref: str, action: str) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]] | None:
        events = (await http.get(f"/referrals/{ref}/audit", headers=as_(AUDITOR))).json().get("events", [])
        found = [e for e in events if e["action"] == action]
        return found or None

    return await eventually(probe, f"{action} in the audit record of {ref}")


async def test_a_decision_by_signal_answers_202_and_applies_or_is_refused_and_audited(http: httpx.AsyncClient) -> None:
    ref = await start(http)
    await wait_for_status(http, ref, "awaiting_chair_decision")
    refused = await http.post(f"/referrals/{ref}/decision", json={"decision": "approve"}, headers=as_(REVIEWER))
    assert refused.status_code == 202  # accepted as a signal: the review itself refuses it, and records why
    rejected = await audit_events(http, ref, "approve_rejected")
    assert rejected[0]["actor"] == REVIEWER and rejected[0]["detail"].startswith("only the chair or deputy")
    assert (await http.get(f"/referrals/{ref}", headers=as_(CHAIR))).json()["status"] == "awaiting_chair_decision"

    sent = await http.post(
        f"/referrals/{ref}/decision", json={"decision": "approve", "rationale": "Worth it"}, headers=as_(CHAIR)
    )
    assert sent.status_code == 202 and sent.headers["location"] == f"/referrals/{ref}"
    assert sent.json()["sent"] is True and "decision sent" in sent.json()["detail"]
    view = await wait_for_status(http, ref, "awaiting_reviewer")
    assert view["chair"] == CHAIR

    no_rationale = await http.post(f"/referrals/{ref}/decision", json={"decision": "decline"}, headers=as_(CHAIR))
    assert no_rationale.status_code == 422 and no_rationale.json()["field"] == "rationale"
    unknown = await http.post("/referrals/NO-SUCH/decision", json={"decision": "approve"}, headers=as_(CHAIR))
    assert unknown.status_code == 404


async def test_adding_a_reason_makes_the_review_mandatory_in_place(http: httpx.AsyncClient) -> None:
    ref = await start(http, "complex-issue")
    await wait_for_status(http, ref, "awaiting_chair_decision")
    body = {"reason": "suicide_or_alleged_suicide", "detail": "Came to light in a call"}
    refused = await post(http, f"/referrals/{ref}/reasons", REVIEWER, body, expect=403)
    assert refused["kind"] == "NotPermitted"
    view = await post(http, f"/referrals/{ref}/reasons", REFERRER, body)
    assert (view["status"], view["mandatory"], view["priority"]) == ("awaiting_reviewer", True, "high")
    assert "suicide_or_alleged_suicide" in view["reasons"]
    again = await post(http, f"/referrals/{ref}/reasons", CHAIR, body, expect=422)
    assert again["field"] == "reason"
    other = await post(http, f"/referrals/{ref}/reasons", CHAIR, {"reason": "other"}, expect=422)
    assert other["field"] == "detail"
    declined = await post(http, f"/referrals/{ref}/decline", CHAIR, {"rationale": "No"}, expect=409)
    assert "cannot decline" in declined["detail"] or "mandatory" in declined["detail"]
    skipped = await audit_events(http, ref, "chair_decision_skipped")
    assert (skipped[0]["from_status"], skipped[0]["to_status"]) == ("awaiting_chair_decision", "awaiting_reviewer")


async def test_a_second_referral_of_the_same_case_or_customer_is_reported_never_refused(
    http: httpx.AsyncClient,
) -> None:
    first = new_referral("complex-issue")
    assert (await http.post("/referrals", json=first, headers=as_(REFERRER))).status_code == 201
    await wait_for_status(http, first["referral_id"], "awaiting_chair_decision")

    async def recorded() -> bool | None:
        response = await http.get(f"/referrals/{first['referral_id']}/related", headers=as_(CHAIR))
        return True if response.is_success else None

    await eventually(recorded, "the first referral to be recorded")
    same_customer = new_referral("persistent", customer={"reference": first["customer"]["reference"]})
    answer = await http.post("/referrals", json=same_customer, headers=as_(REFERRER))
    assert answer.status_code == 201
    related = answer.json()["related"]
    # Its status is the one last recorded (the records trail the review by a moment).
    assert [(r["referral_id"], r["same"], r["outcome"]) for r in related] == [
        (first["referral_id"], ["customer_reference"], None)
    ]
    same_case = new_referral("other", case_reference=first["case_reference"])
    answer = await http.post("/referrals", json=same_case, headers=as_(REFERRER))
    assert [r["same"] for r in answer.json()["related"]] == [["case_reference"]]

    async def both() -> list[dict[str, Any]] | None:
        found = (await http.get(f"/referrals/{first['referral_id']}/related", headers=as_(CHAIR))).json()
        return found if len(found) == 2 else None

    listed = await eventually(both, "both later referrals to be recorded")
    assert {r["referral_id"] for r in listed} == {same_customer["referral_id"], same_case["referral_id"]}
    assert set(listed[0]) == {"referral_id", "same", "status", "outcome", "referred_at", "closed_at"}


async def test_local_feedback_after_closure_for_the_referrer_and_the_site(http: httpx.AsyncClient) -> None:
    ref = await start(http, "complex-issue")
    await wait_for_status(http, ref, "awaiting_chair_decision")
    await post(http, f"/referrals/{ref}/approve", DEPUTY)
    await post(http, f"/referrals/{ref}/assign-reviewer", CHAIR, {"reviewer": REVIEWER})
    early = await http.get(f"/referrals/{ref}/feedback", headers=as_(REFERRER))
    assert early.status_code == 409 and "ready at closure" in early.json()["detail"]
    await post(http, f"/referrals/{ref}/submit-findings", REVIEWER, findings().model_dump(mode="json"))
    await post(http, f"/referrals/{ref}/sign-off", CHAIR)

    async def ready() -> dict[str, Any] | None:
        response = await http.get(f"/referrals/{ref}/feedback", headers=as_(SITE_CONTACT))
        return response.json() if response.status_code == 200 and response.json()["local_recommendations"] else None

    feedback = await eventually(ready, "the local feedback")
    assert feedback["outcome"] == "completed"
    assert [(r["owner"], r["owner_function"]) for r in feedback["local_recommendations"]] == [
        ("T-LEEDS-COMPLAINTS", "Complaints handling")
    ]
    for reader in (REFERRER, FOCAL, CHAIR):
        assert (await http.get(f"/referrals/{ref}/feedback", headers=as_(reader))).status_code == 200
    stranger = await http.get(f"/referrals/{ref}/feedback", headers=as_(OTHER_REVIEWER))
    assert stranger.status_code == 403 and stranger.json()["kind"] == "NotPermitted"


async def test_a_suicide_referral_starts_through_the_api_whatever_the_directory_lacks(
    http: httpx.AsyncClient,
) -> None:
    ref = await start(http, "suicide", osn="no-chair-here")
    view = await wait_for_status(http, ref, "awaiting_reviewer")
    assert view["mandatory"] is True and view["chair"] is None
    escalated = await audit_events(http, ref, "escalated")
    assert "S200" in escalated[0]["detail"] and "S600" in escalated[0]["detail"]
