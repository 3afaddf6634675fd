"""The recommendations register page: what the signed-in person may read, overdue first, with the actions they may
take now as plain forms (no scripts). The workflow still decides: a form is only an offer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from peer_review.domain.models import (
    IDENTIFIER,
    RecommendationAct,
    RecommendationLevel,
    RecommendationParties,
    RecommendationStatus,
    RecommendationView,
    RegisterEntry,
)
from peer_review.domain.recommendations import STEPS, Needs, RecommendationAction, parties_of, steps_open_to
from peer_review.records import read_model
from peer_review.temporal.client import ReviewError
from peer_review.web.deps import Person, ServicesDep
from peer_review.web.errors import status_of
from peer_review.web.pages_common import PagePerson, checked_form
from peer_review.web.render import render
from peer_review.web.routes.recommendations import RecPath, read_register
from peer_review.web.services import Services

router = APIRouter(prefix="/register", include_in_schema=False)

NEEDS_LABEL = {
    Needs.RATIONALE: "Why it is not accepted",
    Needs.EVIDENCE: "What shows it is implemented",
    Needs.REASON: "Why it is reopened",
    Needs.OWNER: "New owner (staff or team id)",
}
IdQuery = Annotated[str, Query(max_length=64)]


def _filter(
    level: str, status: str, owner: str, theme: str, overdue: str
) -> tuple[read_model.RegisterFilter, list[str]]:
    """The filter form, read leniently: a bad value is named on the page, never a crash."""
    problems = []
    if level and level not in RecommendationLevel.__members__.values():
        problems.append(f"level: unknown level {level!r}")
    if status and status not in RecommendationStatus.__members__.values():
        problems.append(f"status: unknown status {status!r}")
    for name, value in (("owner", owner), ("theme", theme)):
        if value and not IDENTIFIER.fullmatch(value):
            problems.append(f"{name}: letters, digits, '.', '_' or '-' only")
    chosen = read_model.RegisterFilter(
        level=level or None, status=status or None, owner=owner or None, theme=theme or None, overdue=overdue == "yes"
    )
    return chosen, problems


def _offers(services: Services, person: Person, entries: list[RegisterEntry]) -> dict[str, list[dict[str, str]]]:
    """For each recommendation, the forms to show: the steps this person may take in its current status."""
    directory = services.directory()
    offers: dict[str, list[dict[str, str]]] = {}
    for entry in entries:
        if not entry.recommendation_id or not entry.osn:
            continue
        contacts = directory.recommendation_contacts(RecommendationParties(owner=entry.owner, osn=entry.osn))
        parties = parties_of(person.id, contacts)
        steps = steps_open_to(parties, RecommendationStatus(entry.status), RecommendationLevel(entry.level))
        offers[entry.recommendation_id] = [
            {
                "command": step.command,
                "field": "" if step.needs is Needs.NOTHING else step.needs.value,
                "label": NEEDS_LABEL.get(step.needs, ""),
            }
            for step in steps
        ]
    return offers


def _as_acted(entry: RegisterEntry, acted: RecommendationView) -> RegisterEntry:
    """The recommendation just acted on as its workflow answered: the records database trails it by a moment, and
    the page must not show the old status (and offer the step just taken) beside "done"."""
    if entry.recommendation_id != acted.recommendation_id:
        return entry
    now = {"status": acted.status.value, "owner": acted.owner, "due_at": acted.due_at, "overdue": acted.overdue}
    return entry.model_copy(update=now)


async def _page(
    request: Request,
    person: Person,
    services: Services,
    values: dict[str, str],
    status_code: int = 200,
    acted: RecommendationView | None = None,
    **extra: Any,
) -> HTMLResponse:
    chosen, problems = _filter(values["level"], values["status"], values["owner"], values["theme"], values["overdue"])
    entries = [] if problems else await read_register(services, person, chosen)
    if acted is not None:
        entries = [_as_acted(entry, acted) for entry in entries]
    error = extra.get("error")
    error_items = [(problem.split(":")[0], problem) for problem in problems] + ([(None, error)] if error else [])
    return render(
        request,
        "register.html",
        person,
        422 if problems else status_code,
        entries=entries,
        offers=_offers(services, person, entries),
        problems=problems,
        values=values,
        levels=list(RecommendationLevel),
        statuses=list(RecommendationStatus),
        error_items=error_items,
        **extra,
    )


@router.get("", response_class=HTMLResponse)
async def register_page(
    request: Request,
    person: PagePerson,
    services: ServicesDep,
    level: IdQuery = "",
    status: IdQuery = "",
    owner: IdQuery = "",
    theme: IdQuery = "",
    overdue: Annotated[str, Query(max_length=8)] = "",
) -> HTMLResponse:
    values = {"level": level, "status": status, "owner": owner, "theme": theme, "overdue": overdue}
    return await _page(request, person, services, values)


COMMANDS = {step.command: step for step in STEPS}
BLANK = {"level": "", "status": "", "owner": "", "theme": "", "overdue": ""}


@router.post("/{rec_id}/{command}", response_class=HTMLResponse)
async def act(
    request: Request, rec_id: RecPath, command: RecommendationAction, person: PagePerson, services: ServicesDep
) -> HTMLResponse:
    form = await checked_form(request, person)
    step = COMMANDS[command.value]
    fields: dict[str, str | None] = {}
    if step.needs is not Needs.NOTHING:
        fields[step.needs.value] = form.get(step.needs.value, "").strip() or None
    try:
        act_request = RecommendationAct.model_validate({"actor": person.id, **fields})
        reviews = await services.reviews_for(person.credentials)
        view = await reviews.act_on_recommendation(rec_id, step.action, act_request)
    except ValidationError as error:
        problem = error.errors()[0]
        message = f"{problem['loc'][0] if problem['loc'] else 'form'}: {problem['msg']}"
        return await _page(request, person, services, BLANK, 422, error=f"{rec_id}: {message}")
    except ReviewError as error:
        status, _ = status_of(error)
        return await _page(request, person, services, BLANK, status, error=f"{rec_id}: {error}")
    done = f"{rec_id}: {command.value} done. It is now {view.status.value.replace('_', ' ')}."
    return await _page(request, person, services, BLANK, acted=view, done=done)
