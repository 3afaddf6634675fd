"""Pages for everyone: home, the dev sign-in, a closed review's local feedback, and the auditor's search and
timeline."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peer_review.domain.as_of import parse_moment
from peer_review.domain.lifecycle import FULL_RECORD_READERS
from peer_review.domain.models import IDENTIFIER, Reason, Status
from peer_review.records import read_model
from peer_review.web.auth import SESSION_COOKIE
from peer_review.web.deps import Person, ServicesDep
from peer_review.web.pages_common import PageNumber, PagePerson, require
from peer_review.web.reads import check_recorded_read
from peer_review.web.render import STATUS_LABELS, render
from peer_review.web.routes import chair, register, reviewer
from peer_review.web.routes.referrals import RefPath, read_audit, read_feedback

router = APIRouter(include_in_schema=False)
router.include_router(chair.router)
router.include_router(reviewer.router)
router.include_router(register.router)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, person: PagePerson) -> HTMLResponse:
    return render(request, "home.html", person)


@router.get("/feedback/{referral_id}", response_class=HTMLResponse)
async def feedback(request: Request, referral_id: RefPath, person: PagePerson, services: ServicesDep) -> HTMLResponse:
    """Where the closing e-mail sends the referrer and the site's contacts."""
    return render(request, "feedback.html", person, feedback=await read_feedback(services, referral_id, person))


# --- Dev sign-in: only with PEER_REVIEW_DEV_LOGIN=true; production signs in at the identity provider. ------


def _dev_only(services: ServicesDep) -> None:
    if not services.api.dev_login:
        raise HTTPException(404)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, services: ServicesDep) -> HTMLResponse:
    _dev_only(services)
    return render(request, "login.html", None, staff=services.directory().staff)


@router.post("/login")
async def login(request: Request, services: ServicesDep, staff_id: Annotated[str, Form()]) -> Response:
    _dev_only(services)
    if services.directory().find(staff_id) is None:
        message = f"{staff_id} is not in the staff directory"
        return render(request, "login.html", None, 422, staff=services.directory().staff, error=message)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        services.tokens.issue_dev_session(staff_id),
        max_age=int(services.api.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# --- Auditors (and the Focal Point): search the records and read a review's timeline. --------------------

AUDITORS = tuple(sorted(FULL_RECORD_READERS))


def _criteria(
    status: str, osn: str, reason: str, overdue: str, held: str, created_from: str, created_to: str
) -> tuple[read_model.Search, list[str]]:
    """Parse the search form leniently: a bad value is reported on the page, never a crash."""
    problems: list[str] = []

    def parse_date(name: str, value: str) -> date | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            problems.append(f"{name}: enter a date as YYYY-MM-DD")
            return None

    if status and status not in Status.__members__.values():
        problems.append(f"status: unknown status {status!r}")
    if reason and reason not in Reason.__members__.values():
        problems.append(f"reason: unknown reason {reason!r}")
    if osn and not IDENTIFIER.fullmatch(osn):
        problems.append("osn: letters, digits, '.', '_' or '-' only")
    criteria = read_model.Search(
        status=Status(status) if status and not any(p.startswith("status") for p in problems) else None,
        osn=osn if osn and IDENTIFIER.fullmatch(osn) else None,
        reason=Reason(reason) if reason and not any(p.startswith("reason") for p in problems) else None,
        overdue=overdue == "yes",
        held=held == "yes",
        created_from=parse_date("from", created_from),
        created_to=parse_date("to", created_to),
    )
    return criteria, problems


@router.get("/audit", response_class=HTMLResponse)
async def audit_search(
    request: Request,
    person: PagePerson,
    services: ServicesDep,
    status: Annotated[str, Query(max_length=64)] = "",
    osn: Annotated[str, Query(max_length=64)] = "",
    reason: Annotated[str, Query(max_length=64)] = "",
    overdue: Annotated[str, Query(max_length=8)] = "",
    held: Annotated[str, Query(max_length=8)] = "",
    created_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    created_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: PageNumber = 1,
) -> HTMLResponse:
    require(person, *AUDITORS, what="The audit pages")
    criteria, problems = _criteria(status, osn, reason, overdue, held, created_from, created_to)
    async with services.records() as store:
        found = read_model.RowPage([], 1, 0) if problems else await read_model.search(store, criteria, page)
    values = {
        "status": status,
        "osn": osn,
        "reason": reason,
        "overdue": overdue,
        "held": held,
        "from": created_from,
        "to": created_to,
    }
    return _form_page(
        request,
        "audit_search.html",
        person,
        problems,
        found=found,
        values=values,
        statuses=STATUS_LABELS,
        reasons=list(Reason),
    )


@router.get("/audit/reviews/{referral_id}", response_class=HTMLResponse)
async def audit_timeline(
    request: Request,
    referral_id: RefPath,
    person: PagePerson,
    services: ServicesDep,
    as_of: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """The whole record, and with `as_of` (the page's date and time field) the review as it stood then, rebuilt from
    the record alone."""
    await check_recorded_read(services, person, "audit", referral_id)
    export = await read_audit(services, referral_id)
    problems: list[str] = []
    stood = None
    async with services.records() as store:
        record = await read_model.review_record(store, referral_id)
        if as_of:
            try:
                moment = parse_moment(as_of)
            except ValueError:
                problems.append("as_of: enter a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM), UTC")
            else:
                stood = await read_model.as_it_stood_on(store, referral_id, moment)
                if stood is None:
                    problems.append(f"as_of: the review had not been referred by {moment:%Y-%m-%d %H:%M} UTC")
    return _form_page(
        request, "audit_timeline.html", person, problems, export=export, record=record, as_of=as_of, stood=stood
    )


def _form_page(request: Request, template: str, person: Person, problems: list[str], **context: Any) -> HTMLResponse:
    """A page with a GET form: 422, with the problems listed, when a value could not be read."""
    return render(request, template, person, 422 if problems else 200, problems=problems, **context)
