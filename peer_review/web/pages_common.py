"""Helpers shared by the page modules: who is signed in, role checks, CSRF-checked forms, live status."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from peer_review.domain.models import Role, StatusView
from peer_review.temporal.client import ReferralNotFound, ServiceUnavailable
from peer_review.web.deps import Bearer, Person, ServicesDep, authenticate
from peer_review.web.errors import Forbidden
from peer_review.web.render import status_label
from peer_review.web.services import Services


async def page_person(request: Request, services: ServicesDep, bearer: Bearer) -> Person:
    """Bearer token from the reverse proxy / identity provider, or the dev sign-in cookie."""
    return await authenticate(request, services, bearer, cookie=True)


PagePerson = Annotated[Person, Depends(page_person)]
# Which page of a paged list to show, from 1; past the end shows the last page.
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]


def require(person: Person, *roles: Role, what: str) -> None:
    if not person.has(*roles):
        names = " or ".join(role.value.replace("_", " ") for role in roles)
        raise Forbidden(f"{what} is for staff with the {names} role; you are signed in as {person.id}")


async def checked_form(request: Request, person: Person) -> dict[str, str]:
    """The submitted form, refused unless it carries this session's CSRF token."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    if not person.credentials.csrf_ok(values.get("csrf")):
        raise Forbidden("this form has expired or came from another site; reload the page and try again")
    return values


async def live_status(
    services: Services, referral_id: str, recorded: StatusView | None
) -> tuple[StatusView | None, str | None]:
    """The review's current view (`recorded` while Temporal agrees with it), or why it is not available (the page
    then shows the record)."""
    try:
        return await (await services.reviews()).current_status(referral_id, recorded), None
    except ReferralNotFound:
        return None, "Temporal no longer holds this review; the details shown are from the records database."
    except ServiceUnavailable:
        return None, "Temporal is not answering just now; the status shown is the last one recorded."


def done_message(done: str, view: StatusView) -> str:
    outcome = f" ({view.outcome.value})" if view.outcome else ""
    return f"{done}. The review is now {status_label(view.status).lower()}{outcome}."
