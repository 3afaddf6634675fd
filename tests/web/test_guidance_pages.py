"""The pages issue 14 changes, without a browser: the reviewer's form follows the review (its fixed stages, its
reasons) and shows earlier reviews of the same customer; the site reads its local feedback after closure."""

from __future__ import annotations

import uuid

import httpx
from temporalio.client import Client

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, FindingsSubmission, Referral
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient
from peer_review.web.app import create_app
from tests.helpers import eventually, findings, referral, triaged, under_review
from tests.helpers.staff import CHAIR, REFERRER, REVIEWER
from tests.helpers.web import api_settings, as_

HTML = {"Accept": "text/html"}


def html_as(staff_id: str) -> dict[str, str]:
    return {**HTML, **as_(staff_id)}


def of_customer(kind: str, customer: str) -> Referral:
    return referral(kind, customer={"reference": customer, "additional_needs": False})


async def test_the_reviewer_form_follows_the_review_and_shows_the_customers_earlier_reviews(
    http: httpx.AsyncClient, client: Client, settings: Settings, store: RecordsStore
) -> None:
    reviews = PeerReviewClient(client, settings)
    customer = f"C-{uuid.uuid4().hex[:8]}"
    earlier, current = of_customer("persistent", customer), of_customer("persistent", customer)
    for case in (earlier, current):
        await reviews.refer(case)
        await triaged(reviews, case.referral_id)
    await reviews.act(earlier.referral_id, ActionName.DECLINE, Decision(actor=CHAIR, rationale="Handled"))
    await under_review(reviews, current.referral_id)
    # The stages configured now differ from those fixed into the review when it started.
    changed = settings.model_copy(update={"journey_stages": ["Triage call", "Apology"]})
    app = create_app(changed, api_settings(), reviews=PeerReviewClient(client, changed), store=store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pages.test") as pages:

        async def form() -> str | None:
            page = await pages.get(f"/reviewer/reviews/{current.referral_id}", headers=html_as(REVIEWER))
            return page.text if page.status_code == 200 and "Your findings" in page.text else None

        text = await eventually(form, "the reviewer's form")
        for stage in settings.journey_stages:
            assert f"Evidence for “{stage}”" in text
        assert "Triage call" not in text
        assert "Assessment of the communications with the customer (required for this review)" in text
        assert "Impact and risk of escalation (optional)" in text
        earlier_section = text.split("Earlier reviews of this customer", 1)[1].split("Your findings", 1)[0]
        assert earlier.referral_id in earlier_section and "Declined" in earlier_section
        assert earlier.summary not in earlier_section  # ids, dates and outcomes only

        missing = {"csrf": "", "summary": "x"}
        refused = await pages.post(
            f"/reviewer/reviews/{current.referral_id}/findings", data=missing, headers=html_as(REVIEWER)
        )
        assert refused.status_code == 403  # no CSRF token: nothing is submitted


async def test_the_site_reads_the_local_feedback_page_after_closure(
    http: httpx.AsyncClient, client: Client, settings: Settings
) -> None:
    reviews = PeerReviewClient(client, settings)
    case = referral("complex-issue")
    ref = case.referral_id
    await reviews.refer(case)
    await triaged(reviews, ref)
    await under_review(reviews, ref)
    await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings()))
    await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=CHAIR))
    await client.get_workflow_handle(f"peer-review-{ref}").result()

    page = await http.get(f"/feedback/{ref}", headers=html_as("S302"))
    assert page.status_code == 200
    assert "Acknowledge within two working days." in page.text and "Complaints handling" in page.text
    assert "Add a prompt for acknowledgement" not in page.text  # the national recommendation is not local feedback
    assert case.summary not in page.text
    assert (await http.get(f"/feedback/{ref}", headers=html_as(REFERRER))).status_code == 200
    assert (await http.get(f"/feedback/{ref}", headers=html_as("S401"))).status_code == 403
