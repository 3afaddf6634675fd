"""The three journeys of the pages in a real browser: a Chair approves, a reviewer submits findings, an
auditor finds a closed review and reads its timeline. Screenshots go to tests/artifacts/browser/."""

from __future__ import annotations

from playwright.async_api import BrowserContext, Page, expect

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision
from peer_review.temporal.client import PeerReviewClient
from tests.browser.conftest import save_screenshot
from tests.helpers import refer_triaged, referral, triaged, under_review
from tests.helpers.staff import AUDITOR, CHAIR, REVIEWER
from tests.helpers.web import LiveServer


async def sign_in(context: BrowserContext, server: LiveServer, staff_id: str) -> Page:
    page = await context.new_page()
    await page.goto(f"{server.url}/")  # not signed in: the dev sign-in page
    await expect(page.get_by_role("heading", name="Sign in (development only)")).to_be_visible()
    await page.get_by_label("Sign in as").select_option(staff_id)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text(f"({staff_id})")).to_be_visible()
    return page


async def open_when_listed(page: Page, url: str, link: str) -> None:
    """The pages read the records database, which trails the workflow by a moment: reload until listed."""
    await page.goto(url)
    for _ in range(50):
        if await page.get_by_role("link", name=link).count():
            break
        await page.wait_for_timeout(100)
        await page.reload()
    await page.get_by_role("link", name=link).click()


async def test_a_chair_approves_from_the_inbox(
    context: BrowserContext, server: LiveServer, reviews: PeerReviewClient
) -> None:
    first, second = referral("complex-issue"), referral("persistent")
    for each in (first, second):
        await reviews.refer(each)
        await triaged(reviews, each.referral_id)
    page = await sign_in(context, server, CHAIR)
    await page.get_by_role("navigation").get_by_role("link", name="Chair inbox").click()
    await expect(page.get_by_role("link", name=second.referral_id)).to_be_visible()
    await expect(page.get_by_text("Awaiting Chair decision").first).to_be_visible()
    save_screenshot(await page.screenshot(full_page=True), "chair-inbox.png")

    # A refusal says why and changes nothing: a decline needs a rationale.
    await page.get_by_role("link", name=second.referral_id).click()
    await page.get_by_role("button", name="Decline").click()
    await expect(page.get_by_role("alert")).to_contain_text("a decline needs a rationale")
    save_screenshot(await page.screenshot(full_page=True), "chair-refused.png")

    await open_when_listed(page, f"{server.url}/chair", first.referral_id)
    await expect(page.get_by_text(first.summary)).to_be_visible()
    await page.get_by_label("Rationale").fill("Several issues to check")
    await page.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status")).to_contain_text("The review is now awaiting reviewer")
    await expect(page.get_by_label("Peer reviewer")).to_be_visible()  # the next step is offered at once
    save_screenshot(await page.screenshot(full_page=True), "chair-approved.png")
    assert (await reviews.status(first.referral_id)).status == "awaiting_reviewer"


async def test_a_reviewer_submits_findings(
    context: BrowserContext, server: LiveServer, reviews: PeerReviewClient
) -> None:
    case = referral("complex-issue")
    await reviews.refer(case)
    await triaged(reviews, case.referral_id)
    await under_review(reviews, case.referral_id)

    page = await sign_in(context, server, REVIEWER)
    await open_when_listed(page, f"{server.url}/reviewer", case.referral_id)
    await page.get_by_role("button", name="Submit findings").click()  # nothing filled in
    await expect(page.get_by_role("alert")).to_contain_text("Summary of findings: this needs an answer")
    save_screenshot(await page.screenshot(), "reviewer-problems.png")

    await page.goto(page.url.removesuffix("/findings"))  # a clean form
    await page.get_by_label("Summary of findings").fill("The key stages were followed; one letter went unanswered.")
    for index, stage in enumerate(server.settings.journey_stages):
        await page.locator(f"#stage-{index}-followed-yes").check()
        await page.get_by_label(f"Evidence for “{stage}”").fill(f"Case notes for {stage.lower()}")
    for index in range(len(case.issues_raised)):
        await page.locator(f"#issue-{index}-addressed-yes").check()
    await page.locator("#underlying_error_identified-no").check()
    await page.get_by_label("Recommendation 1: level").select_option("national")
    await page.get_by_label("Recommendation 1", exact=True).fill("Log every letter on the day it arrives")
    await page.locator("#recommendation-0-owner").fill("T-COMPLAINTS-POLICY")
    await page.get_by_label("Lessons learned (optional)").fill("Check the post log before replying")
    # The referral's reasons include additional needs: the form asks for the impact, and names it when missing.
    await page.get_by_role("button", name="Submit findings").click()
    await expect(page.get_by_role("alert")).to_contain_text("Impact and risk of escalation: required")
    await page.get_by_label("Impact and risk of escalation (required for this review)").fill(
        "Without money for two weeks; a further complaint is likely if the letters stay unanswered"
    )
    save_screenshot(await page.screenshot(full_page=True), "reviewer-findings-full.png")
    await page.get_by_role("heading", name="The referral").evaluate("heading => heading.scrollIntoView()")
    save_screenshot(await page.screenshot(), "reviewer-findings.png")  # the referral, then the form
    await page.get_by_role("button", name="Submit findings").click()
    await expect(page.get_by_role("status")).to_contain_text("The review is now awaiting sign-off")
    save_screenshot(await page.screenshot(full_page=True), "reviewer-submitted.png")
    assert (await reviews.status(case.referral_id)).status == "awaiting_sign_off"


async def test_an_auditor_finds_a_closed_review_and_opens_its_timeline(
    context: BrowserContext, server: LiveServer, reviews: PeerReviewClient
) -> None:
    ref = await refer_triaged(reviews, "persistent")
    await reviews.act(ref, ActionName.DECLINE, Decision(actor=CHAIR, rationale="Reviewed last month"))
    await reviews.client.get_workflow_handle(f"peer-review-{ref}").result()  # every record written

    page = await sign_in(context, server, AUDITOR)
    await page.get_by_role("navigation").get_by_role("link", name="Audit").click()
    await page.get_by_label("Status").select_option("closed")
    await page.get_by_label("OSN").fill("north-east")
    await page.get_by_label("Reason").select_option("persistent_or_vexatious")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name=ref)).to_be_visible()
    save_screenshot(await page.screenshot(full_page=True), "auditor-search.png")

    await page.get_by_role("link", name=ref).click()
    await expect(page.get_by_role("heading", name=f"Timeline of {ref}")).to_be_visible()
    await expect(page.get_by_text("Hash chain valid")).to_be_visible()
    decline = page.get_by_role("row").filter(has_text="Reviewed last month")
    await expect(decline).to_contain_text("Ann Chair (S100)")
    await expect(decline).to_contain_text("Awaiting Chair decision → Closed")
    export = page.get_by_role("link", name="CSV")
    assert await export.get_attribute("href") == f"/referrals/{ref}/audit?format=csv"
    save_screenshot(await page.screenshot(full_page=True), "auditor-timeline.png")
    exported = await context.request.get(f"{server.url}/referrals/{ref}/audit")
    assert exported.ok and (await exported.json())["chain_valid"] is True  # the export works signed in
