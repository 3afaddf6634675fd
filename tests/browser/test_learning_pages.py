"""The recommendations register and the reports page in a real browser: the Leeds team's contact accepts a
recommendation from the register; the national lead reads the reports with their plots. Screenshots go to
tests/artifacts/browser/ (and docs/screenshots/ with PEER_REVIEW_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

from playwright.async_api import Browser, BrowserContext, expect

from peer_review.domain.models import recommendation_id
from peer_review.temporal.client import PeerReviewClient
from tests.browser.conftest import save_screenshot
from tests.browser.test_pages import sign_in
from tests.helpers import LEEDS_TEAM_CONTACT, NATIONAL_LEAD
from tests.helpers.recommendations import signed_off, tracked
from tests.helpers.web import LiveServer


async def test_an_owner_accepts_from_the_register_and_the_national_lead_reads_the_reports(
    browser: Browser, context: BrowserContext, server: LiveServer, reviews: PeerReviewClient
) -> None:
    r = await signed_off(reviews)
    local = recommendation_id(r.referral_id, 1)
    await tracked(reviews, local)

    page = await sign_in(context, server, LEEDS_TEAM_CONTACT)
    await page.get_by_role("navigation").get_by_role("link", name="Recommendations").click()
    row = page.locator(f"tr[id='{local}']")
    for _ in range(50):  # the register reads the records database, which trails the workflow by a moment
        if await row.count():
            break
        await page.wait_for_timeout(100)
        await page.reload()
    await expect(row).to_contain_text("Proposed")
    await row.get_by_role("button", name="Accept").click()
    await expect(page.get_by_role("status")).to_contain_text(f"{local}: accept done. It is now accepted.")
    assert (await reviews.recommendation(local)).status == "accepted"
    # The row shows the status the workflow answered (the records database may not have caught up), and the steps
    # open now: start, not accept again.
    await expect(row).to_contain_text("Accepted")
    await expect(row.get_by_role("button", name="Accept")).to_have_count(0)
    await expect(row.get_by_role("button", name="Start")).to_be_visible()
    save_screenshot(await page.screenshot(full_page=True), "register.png")

    lead_context = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    lead = await sign_in(lead_context, server, NATIONAL_LEAD)
    await lead.get_by_role("navigation").get_by_role("link", name="Reports").click()
    await expect(lead.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    assert await lead.locator("svg").count() > 0  # plots drawn on the server, no script on the page
    # Drawn as matplotlib meant under the pages' Content-Security-Policy: the background white, not black.
    background = lead.locator("figure.plot svg path").first
    assert await background.evaluate("shape => getComputedStyle(shape).fill") == "rgb(255, 255, 255)"
    assert await lead.locator("script").count() == 0
    save_screenshot(await lead.screenshot(full_page=True), "report.png")
    await lead_context.close()
