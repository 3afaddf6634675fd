"""The OSN Chair's pages: the inbox of reviews awaiting a decision or sign-off, and one review's actions."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import (
    ActionPayload,
    Decision,
    ReviewerAssignment,
    Rework,
    Role,
    Staff,
    Status,
    StatusView,
)
from peer_review.records import read_model
from peer_review.temporal.client import ReferralNotFound, ReviewError
from peer_review.web.deps import Person, ServicesDep
from peer_review.web.errors import Forbidden, status_of
from peer_review.web.pages_common import PageNumber, PagePerson, checked_form, done_message, live_status
from peer_review.web.reads import check_recorded_read
from peer_review.web.render import render
from peer_review.web.routes.referrals import RefPath
from peer_review.web.services import Services

router = APIRouter(prefix="/chair", include_in_schema=False)

INBOX = [Status.AWAITING_CHAIR_DECISION, Status.AWAITING_SIGN_OFF]
ChairAction = Literal["approve", "decline", "assign-reviewer", "sign-off", "return-for-rework"]
DONE = {
    "approve": "Approved",
    "decline": "Declined",
    "assign-reviewer": "Reviewer assigned",
    "sign-off": "Signed off",
    "return-for-rework": "Returned for rework",
}


def _chair(person: Person) -> tuple[str, ...]:
    if not person.chair_osns:
        raise Forbidden(f"the Chair inbox is for OSN Chairs and their deputies; you are signed in as {person.id}")
    return person.chair_osns


@router.get("", response_class=HTMLResponse)
async def inbox(
    request: Request, person: PagePerson, services: ServicesDep, page: PageNumber = 1, assign_page: PageNumber = 1
) -> HTMLResponse:
    """Two lists, each a page at a time: `page` pages the decisions and sign-offs, `assign_page` the assignments."""
    osns = list(_chair(person))
    async with services.records() as store:
        waiting = await read_model.awaiting(store, osns, INBOX, page)
        needing_reviewer = await read_model.awaiting(store, osns, [Status.AWAITING_REVIEWER], assign_page)
    return render(request, "chair_inbox.html", person, osns=osns, waiting=waiting, needing_reviewer=needing_reviewer)


async def _context(services: Services, person: Person, referral_id: str) -> dict[str, Any]:
    _chair(person)
    await check_recorded_read(services, person, "review", referral_id)
    async with services.records() as store:
        record = await read_model.review_record(store, referral_id)
    if record is None:
        raise ReferralNotFound(f"no review {referral_id} has been recorded yet")
    if record.referral.osn not in _chair(person):
        raise Forbidden(f"review {referral_id} belongs to OSN {record.referral.osn}, which you do not chair")
    view, note = await live_status(services, referral_id, record.view)
    return {"record": record, "view": view, "note": note, "reviewers": _peers(services, record.referral)}


def _peers(services: Services, referral: Any) -> list[Staff]:
    """Reviewers the workflow would accept: reviewer role, not the referrer, another site."""
    return [
        staff
        for staff in services.directory().with_role(Role.REVIEWER)
        if staff.id != referral.referred_by and staff.site.casefold() != referral.site.casefold()
    ]


@router.get("/reviews/{referral_id}", response_class=HTMLResponse)
async def review(request: Request, referral_id: RefPath, person: PagePerson, services: ServicesDep) -> HTMLResponse:
    return render(request, "chair_review.html", person, **await _context(services, person, referral_id))


def _payload(action: ChairAction, person: Person, form: dict[str, str]) -> tuple[ActionName, ActionPayload]:
    rationale = form.get("rationale", "").strip() or None
    if action == "approve":
        return ActionName.APPROVE, Decision(actor=person.id, rationale=rationale)
    if action == "decline":
        return ActionName.DECLINE, Decision(actor=person.id, rationale=rationale)
    if action == "assign-reviewer":
        return ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=person.id, reviewer=form.get("reviewer", ""))
    if action == "sign-off":
        return ActionName.SIGN_OFF, Decision(actor=person.id, rationale=rationale)
    return ActionName.RETURN_FOR_REWORK, Rework(actor=person.id, reason=form.get("reason", ""))


@router.post("/reviews/{referral_id}/{action}", response_class=HTMLResponse)
async def act(
    request: Request, referral_id: RefPath, action: ChairAction, person: PagePerson, services: ServicesDep
) -> HTMLResponse:
    form = await checked_form(request, person)
    context = await _context(services, person, referral_id)
    label = DONE[action]
    try:
        name, payload = _payload(action, person, form)
        view: StatusView = await (await services.reviews_for(person.credentials)).act(referral_id, name, payload)
    except ValidationError as error:
        problem = error.errors()[0]
        field = str(problem["loc"][0]) if problem["loc"] else "form"
        message = f"{field}: {problem['msg']}"
        return render(request, "chair_review.html", person, 422, **context, error=message, values=form)
    except ReviewError as error:
        status, _ = status_of(error)
        return render(request, "chair_review.html", person, status, **context, error=str(error), values=form)
    # The update's answer is the new state: show it at once rather than wait for the records to catch up.
    context.update(view=view, note=None, done=done_message(label, view))
    return render(request, "chair_review.html", person, **context)
