"""The reviewer's pages: the reviews assigned to me, and the findings form for one of them.

The form is built from the review itself: the Customer Journey stages fixed into it when it started, and the
sections its reasons ask for (the reasons now, including any added during the review).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from peer_review.domain.findings import required_sections
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import FindingsSubmission, Reason, Role
from peer_review.records import read_model
from peer_review.temporal.client import ReferralNotFound, ReviewError
from peer_review.web.deps import Person, ServicesDep
from peer_review.web.errors import Forbidden, status_of
from peer_review.web.forms import CHRONOLOGY_ROWS, RECOMMENDATION_ROWS, FormProblems, parse_findings
from peer_review.web.pages_common import (
    PageNumber,
    PagePerson,
    checked_form,
    done_message,
    live_status,
    require,
)
from peer_review.web.reads import check_recorded_read
from peer_review.web.render import render
from peer_review.web.routes.referrals import RefPath
from peer_review.web.services import Services

router = APIRouter(prefix="/reviewer", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
async def my_reviews(request: Request, person: PagePerson, services: ServicesDep, page: PageNumber = 1) -> HTMLResponse:
    require(person, Role.REVIEWER, what="This page")
    async with services.records() as store:
        found = await read_model.assigned_to(store, person.id, page)
    return render(request, "reviewer_list.html", person, found=found)


async def _context(services: Services, person: Person, referral_id: str) -> dict[str, Any]:
    require(person, Role.REVIEWER, what="This page")
    await check_recorded_read(services, person, "review", referral_id)
    async with services.records() as store:
        record = await read_model.review_record(store, referral_id)
        if record is None:
            raise ReferralNotFound(f"no review {referral_id} has been recorded yet")
        earlier = await read_model.earlier_reviews_of_customer(store, record)
    view, note = await live_status(services, referral_id, record.view)
    reviewer = view.reviewer if view else record.row.reviewer
    if reviewer != person.id:
        raise Forbidden(f"review {referral_id} is not assigned to you")
    reasons = view.reasons if view and view.reasons else [Reason(r) for r in record.row.reasons]
    return {
        "record": record,
        "view": view,
        "note": note,
        # The stages fixed into the review; only while Temporal is unreachable (and nothing can be submitted) the
        # stages configured now stand in.
        "stages": view.journey_stages if view and view.journey_stages else services.settings.journey_stages,
        "issues": record.referral.issues_raised,
        "reasons": reasons,
        "required": required_sections(reasons),
        "earlier": earlier,
        "owners": services.directory().teams,
        "chronology_rows": CHRONOLOGY_ROWS,
        "recommendation_rows": RECOMMENDATION_ROWS,
        "problems": FormProblems(),
        "values": {},
    }


@router.get("/reviews/{referral_id}", response_class=HTMLResponse)
async def review(request: Request, referral_id: RefPath, person: PagePerson, services: ServicesDep) -> HTMLResponse:
    return render(request, "reviewer_review.html", person, **await _context(services, person, referral_id))


@router.post("/reviews/{referral_id}/findings", response_class=HTMLResponse)
async def submit(request: Request, referral_id: RefPath, person: PagePerson, services: ServicesDep) -> HTMLResponse:
    form = await checked_form(request, person)
    context = await _context(services, person, referral_id)
    findings, problems = parse_findings(form, context["stages"], context["issues"], context["reasons"])
    context.update(values=form, problems=problems)
    if findings is None:
        return render(request, "reviewer_review.html", person, 422, **context)
    try:
        view = await (await services.reviews_for(person.credentials)).act(
            referral_id, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=person.id, findings=findings)
        )
    except ReviewError as error:
        status, _ = status_of(error)
        return render(request, "reviewer_review.html", person, status, **context, error=str(error))
    context.update(view=view, note=None, done=done_message("Findings submitted", view))
    return render(request, "reviewer_review.html", person, **context)
