"""FastAPI dependencies: the shared services and the signed-in member of staff.

Only staff in the directory whose address is on an internal domain (PEER_REVIEW_INTERNAL_DOMAINS) get in: anyone
else is refused with 403, logged and written to the access log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from peer_review.domain import lifecycle
from peer_review.domain.models import Role, Staff
from peer_review.domain.notices import is_internal
from peer_review.records.store import AccessEntry
from peer_review.web.auth import SESSION_COOKIE, Credentials, Unauthenticated
from peer_review.web.errors import Forbidden
from peer_review.web.services import Services

# The JSON API's paths; everything else is a page.
API_PREFIXES = ("/referrals", "/recommendations", "/reports")

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A JWT from the organisation's identity provider; `sub` is the caller's staff id.",
)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


@dataclass(frozen=True)
class Person:
    """The signed-in member of staff, as the directory knows them."""

    staff: Staff
    credentials: Credentials
    via_cookie: bool
    # The OSNs whose reviews this person decides and signs off: as their Chair or as a listed deputy.
    chair_osns: tuple[str, ...] = ()
    # Where they came in: "api" (the JSON routes) or "pages".
    channel: str = "api"

    @property
    def id(self) -> str:
        return self.staff.id

    @property
    def reader(self) -> lifecycle.Reader:
        """This person for the read rule (peer_review.domain.lifecycle.read_scope)."""
        return lifecycle.Reader(self.staff.id, frozenset(self.staff.roles), frozenset(self.chair_osns))

    @property
    def proven_by(self) -> str:
        return f"API sign-in of {self.id}"

    def has(self, *roles: Role) -> bool:
        return any(role in self.staff.roles for role in roles)


log = structlog.get_logger(__name__)


async def _person(services: Services, credentials: Credentials, via_cookie: bool, channel: str) -> Person:
    directory = services.directory()
    staff = directory.find(credentials.staff_id)
    if staff is None:
        await _refuse(services, credentials.staff_id, channel, "not in the staff directory")
        raise Forbidden(f"{credentials.staff_id} is not in the staff directory")
    if not is_internal(staff.email, services.settings.internal_domains):
        # Peer Reviews are internal only: a contractor or partner in the directory is kept out, not just their mail.
        await _refuse(services, staff.id, channel, "not internal")
        raise Forbidden(f"{staff.id} is not on an internal domain: Peer Reviews are for internal staff only")
    return Person(staff, credentials, via_cookie, directory.chair_osns(staff), channel)


async def _refuse(services: Services, staff_id: str, channel: str, why: str) -> None:
    log.warning("sign-in refused", reason=why, channel=channel)
    await services.log_access(AccessEntry(staff_id, "sign-in", None, channel, allowed=False))


async def authenticate(
    request: Request, services: Services, bearer: HTTPAuthorizationCredentials | None, *, cookie: bool
) -> Person:
    channel = "api" if request.url.path.startswith(API_PREFIXES) else "pages"
    if bearer is not None:
        return await _person(services, services.tokens.bearer(bearer.credentials), False, channel)
    session = request.cookies.get(SESSION_COOKIE)
    if cookie and session and services.api.dev_login:
        return await _person(services, services.tokens.cookie(session), True, channel)
    raise Unauthenticated("sign in: send `Authorization: Bearer <token>`")


async def acting_person(request: Request, services: ServicesDep, bearer: Bearer) -> Person:
    """For actions: a bearer token only, so no other site can make a signed-in browser act (no CSRF)."""
    return await authenticate(request, services, bearer, cookie=False)


async def reading_person(request: Request, services: ServicesDep, bearer: Bearer) -> Person:
    """For reads: a bearer token or the dev sign-in cookie (so the pages' export links work)."""
    return await authenticate(request, services, bearer, cookie=True)


Actor = Annotated[Person, Depends(acting_person)]
Reader = Annotated[Person, Depends(reading_person)]
