"""Jinja2 rendering for the pages: templates and static files ship inside the package (no build step)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from peer_review.domain.lifecycle import FULL_RECORD_READERS, may_read_reports
from peer_review.domain.models import Role, Status
from peer_review.web.deps import Person

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates"
STATIC = PACKAGE / "static"

STATUS_LABELS = {
    Status.REFERRED: "Referred",
    Status.TRIAGE: "In triage",
    Status.AWAITING_CHAIR_DECISION: "Awaiting Chair decision",
    Status.AWAITING_REVIEWER: "Awaiting reviewer",
    Status.UNDER_REVIEW: "Under review",
    Status.AWAITING_LEGAL_CLEARANCE: "Awaiting legal clearance",
    Status.AWAITING_SIGN_OFF: "Awaiting sign-off",
    Status.CLOSED: "Closed",
}


def status_label(value: str | None) -> str:
    if not value:
        return "-"
    try:
        return STATUS_LABELS[Status(value)]
    except ValueError:
        return value


def words(value: str | None) -> str:
    """`assign_reviewer` → `Assign reviewer` for people reading the page."""
    return (value or "").replace("_", " ").replace("-", " ").capitalize()


def when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y %H:%M UTC") if moment else "-"


def level(value: str) -> str:
    return "OSN" if value == "osn" else value.capitalize()


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters.update(status_label=status_label, words=words, when=when, level=level)


@pass_context
def staff_label(context: Mapping[str, Any], staff_id: str | None) -> str:
    """`Ann Chair (S100)` for a staff id the directory knows, else the id (or `-`)."""
    if not staff_id:
        return "-"
    name = context.get("names", {}).get(staff_id)
    return f"{name} ({staff_id})" if name else staff_id


templates.env.filters["person"] = staff_label


@pass_context
def page_href(context: Mapping[str, Any], param: str, number: int) -> str:
    """This page's address with page `number` in `param`, every other query parameter kept (filters, other lists)."""
    request: Request = context["request"]
    kept = [(key, value) for key, value in request.query_params.multi_items() if key != param]
    return f"{request.url.path}?{urlencode([*kept, (param, str(number))])}"


templates.env.globals["page_href"] = page_href


def nav_for(person: Person | None) -> list[tuple[str, str]]:
    if person is None:
        return []
    links = [("/", "Home")]
    if person.chair_osns:
        links.append(("/chair", "Chair inbox"))
    if person.has(Role.REVIEWER):
        links.append(("/reviewer", "My reviews"))
    if person.has(*FULL_RECORD_READERS):
        links.append(("/audit", "Audit"))
    links.append(("/register", "Recommendations"))
    if may_read_reports(person.reader):
        links.append(("/report", "Reports"))
    return links


def render(request: Request, name: str, person: Person | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    services = request.app.state.services
    return templates.TemplateResponse(
        request,
        name,
        {
            "person": person,
            "nav": nav_for(person),
            "csrf": person.credentials.csrf_token if person else "",
            "dev_login": services.api.dev_login,
            "names": {staff.id: staff.name for staff in services.directory().staff},
            **context,
        },
        status_code=status_code,
    )
