"""Every API route against a real dev server and worker: the paths through a review, then each error."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from tests.helpers import eventually, example, findings
from tests.helpers.staff import AUDITOR, CHAIR, DEPUTY, FOCAL, REFERRER, REVIEWER, SAME_SITE_REVIEWER
from tests.helpers.web import as_, new_referral, post, start, wait_for_status


async def test_a_review_from_referral_to_sign_off(http: httpx.AsyncClient) -> None:
    body = new_referral("complex-issue")
    ref = body["referral_id"]
    first = await http.post("/referrals", json=body, headers=as_(REFERRER))
    assert first.status_code == 201 and first.headers["location"] == f"/referrals/{ref}"
    assert first.json() == {
        "referral_id": ref,
        "workflow_id": f"peer-review-{ref}",
        "status": "referred",
        "already_started": False,
        "related": [],
    }
    again = await http.post("/referrals", json=body, headers=as_(REFERRER))
    assert again.status_code == 200 and again.json()["already_started"] is True

    await wait_for_status(http, ref, "awaiting_chair_decision")
    view = await post(http, f"/referrals/{ref}/approve", CHAIR, {"rationale": "Several issues to check"})
    assert view["status"] == "awaiting_reviewer" and view["chair"] == CHAIR
    view = await post(http, f"/referrals/{ref}/assign-reviewer", CHAIR, {"reviewer": REVIEWER})
    assert (view["status"], view["reviewer"]) == ("under_review", REVIEWER)
    contentious = example("findings-contentious.json")
    view = await post(http, f"/referrals/{ref}/submit-findings", REVIEWER, contentious)
    assert view["status"] == "awaiting_legal_clearance"
    view = await post(http, f"/referrals/{ref}/clear", FOCAL)  # no body: the note is optional
    assert view["status"] == "awaiting_sign_off"
    view = await post(http, f"/referrals/{ref}/return-for-rework", CHAIR, {"reason": "Add the March letters"})
    assert view["status"] == "under_review"
    view = await post(http, f"/referrals/{ref}/submit-findings", REVIEWER, findings().model_dump(mode="json"))
    assert view["status"] == "awaiting_sign_off"
    view = await post(http, f"/referrals/{ref}/sign-off", CHAIR, {"rationale": "Thorough"})
    assert (view["status"], view["outcome"], view["stage"]) == ("closed", "completed", "closure")
    status = await http.get(f"/referrals/{ref}", headers=as_(REFERRER))
    assert status.status_code == 200 and status.json()["outcome"] == "completed"

    async def signed_off_record() -> dict[str, Any] | None:
        answer: dict[str, Any] = (await http.get(f"/referrals/{ref}/audit", headers=as_(AUDITOR))).json()
        # RecordsStore.audit_record reads last_seq and the events in two statements, so a batch landing
        # between them reads as a broken chain until the review's last records are in (reported to the lead).
        signed_off = "sign_off" in [e["action"] for e in answer.get("events", [])]
        return answer if signed_off and answer["chain_valid"] else None

    audit = await eventually(signed_off_record, "the sign-off to be recorded")
    assert audit["referral_id"] == ref and audit["chain_valid"] is True and audit["first_broken_seq"] is None, audit
    sign_off = next(e for e in audit["events"] if e["action"] == "sign_off")
    assert (sign_off["actor"], sign_off["detail"]) == (CHAIR, "Thorough")  # the actor came from the token

    exported = await http.get(f"/referrals/{ref}/audit", params={"format": "csv"}, headers=as_(FOCAL))
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["action"] == "referred" and "sign_off" in [row["action"] for row in rows]

    async def listed() -> list[str] | None:
        query = {"status": "closed", "osn": "north-east", "reason": "complex_issue"}
        found = (await http.get("/referrals", params=query, headers=as_(AUDITOR))).json()
        ids = [item["referral_id"] for item in found]
        return ids if ref in ids else None

    await eventually(listed, "the closed review to be listed")


async def test_decline_and_withdraw(http: httpx.AsyncClient) -> None:
    declined, withdrawn = await start(http), await start(http, "other")
    await wait_for_status(http, declined, "awaiting_chair_decision")
    view = await post(http, f"/referrals/{declined}/decline", DEPUTY, {"rationale": "Reviewed last month"})
    assert (view["status"], view["outcome"]) == ("closed", "declined")
    await wait_for_status(http, withdrawn, "awaiting_chair_decision")
    view = await post(http, f"/referrals/{withdrawn}/withdraw", REFERRER, {"reason": "Resolved informally"})
    assert (view["status"], view["outcome"]) == ("closed", "withdrawn")


async def test_401_without_a_valid_token(http: httpx.AsyncClient) -> None:
    from tests.helpers.web import token

    ref = "PR-2026-0001"
    assert (await http.get(f"/referrals/{ref}")).status_code == 401
    for bad in (
        token(CHAIR, key="another-secret-of-sufficient-length!!"),
        token(CHAIR, exp=1),  # expired in 1970
        token("not a staff id!"),
        "not-a-jwt",
    ):
        response = await http.post(f"/referrals/{ref}/approve", json={}, headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer", bad
        assert response.json()["kind"] == "Unauthenticated"


async def test_403_not_permitted_for_this_person(http: httpx.AsyncClient) -> None:
    ref = await start(http)
    await wait_for_status(http, ref, "awaiting_chair_decision")
    refused = await post(http, f"/referrals/{ref}/approve", REFERRER, {"rationale": "me"}, expect=403)
    assert refused["kind"] == "NotPermitted" and "chair" in refused["detail"]
    stranger = await http.get(f"/referrals/{ref}", headers=as_("S999"))
    assert stranger.status_code == 403 and "not in the staff directory" in stranger.json()["detail"]
    in_someone_elses_name = await http.post("/referrals", json=new_referral(), headers=as_(CHAIR))
    assert in_someone_elses_name.status_code == 403 and "referred_by" in in_someone_elses_name.json()["detail"]
    # A caseworker with no part in the review may not read it (the referrer may: it is their referral).
    caseworker_audit = await http.get(f"/referrals/{ref}/audit", headers=as_("S302"))
    assert caseworker_audit.status_code == 403 and "may not read" in caseworker_audit.json()["detail"]


async def test_409_not_allowed_in_this_status(http: httpx.AsyncClient) -> None:
    mandatory, closed = await start(http, "suicide"), await start(http)
    await wait_for_status(http, mandatory, "awaiting_reviewer")
    refused = await post(http, f"/referrals/{mandatory}/withdraw", REFERRER, {"reason": "no"}, expect=409)
    assert refused["kind"] == "InvalidState" and "mandatory" in refused["detail"]
    await post(http, f"/referrals/{mandatory}/sign-off", CHAIR, expect=409)
    await wait_for_status(http, closed, "awaiting_chair_decision")
    await post(http, f"/referrals/{closed}/decline", CHAIR, {"rationale": "Not needed"})
    finished = await post(http, f"/referrals/{closed}/approve", CHAIR, expect=409)
    assert "finished" in finished["detail"] or "closed" in finished["detail"]


async def test_422_names_the_field(http: httpx.AsyncClient) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (new_referral("other", other_reason=None), "other_reason"),
        ({**new_referral(), "colour": "red"}, "colour"),
        ({**new_referral(), "referral_level": "region"}, "referral_level"),
        (new_referral(osn="nowhere"), "osn"),  # valid shape, but no Chair is listed for that OSN
    ]
    for body, field in cases:
        response = await http.post("/referrals", json=body, headers=as_(REFERRER))
        problem = response.json()
        assert response.status_code == 422 and problem["field"] == field, problem
        assert problem["kind"] == "InvalidInput" and field in problem["detail"]

    ref = await start(http, "suicide")
    await wait_for_status(http, ref, "awaiting_reviewer")
    same_site = await post(http, f"/referrals/{ref}/assign-reviewer", CHAIR, {"reviewer": SAME_SITE_REVIEWER}, 422)
    assert same_site["field"] == "reviewer" and "Leeds" in same_site["detail"]  # the workflow's own rejection
    no_rationale = await post(http, f"/referrals/{ref}/decline", CHAIR, {}, expect=422)
    assert no_rationale["field"] == "rationale"
    bad_path = await http.get("/referrals/not a ref!", headers=as_(CHAIR))
    assert bad_path.status_code == 422 and bad_path.json()["field"] == "referral_id"
    bad_filter = await http.get("/referrals", params={"status": "lost"}, headers=as_(CHAIR))
    assert bad_filter.status_code == 422 and bad_filter.json()["field"] == "status"

    await post(http, f"/referrals/{ref}/assign-reviewer", CHAIR, {"reviewer": REVIEWER})
    incomplete = findings(customer_journey=findings().customer_journey[:1]).model_dump(mode="json")
    missing = await post(http, f"/referrals/{ref}/submit-findings", REVIEWER, incomplete, expect=422)
    assert missing["field"] == "customer_journey" and "missing assessment" in missing["detail"]


async def test_404_unknown_referral(http: httpx.AsyncClient) -> None:
    ref = "NO-SUCH-REF"
    assert (await http.get(f"/referrals/{ref}", headers=as_(CHAIR))).status_code == 404
    assert (await http.get(f"/referrals/{ref}/audit", headers=as_(AUDITOR))).status_code == 404
    for action, body in (("approve", {}), ("withdraw", {"reason": "x"}), ("sign-off", None)):
        response = await http.post(f"/referrals/{ref}/{action}", json=body, headers=as_(CHAIR))
        assert response.status_code == 404 and response.json()["kind"] == "NotFound", action


async def test_findings_over_the_size_limit_are_422_naming_the_size(http: httpx.AsyncClient) -> None:
    body = {
        **example("findings.json"),
        "lessons_learned": ["x" * 10_000] * 100,
        "chronology": [{"date": "2026-03-02", "event": "y" * 10_000}] * 100,
    }
    refused = await http.post("/referrals/PR-ANY/submit-findings", json=body, headers=as_(REVIEWER))
    assert refused.status_code == 422
    problem = refused.json()
    assert "bytes of JSON" in problem["detail"] and "256 KB" in problem["detail"]
