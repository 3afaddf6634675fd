"""FastAPI dependencies: the shared services and the signed-in member of staff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from peer_review.domain.models import Role, Staff
from peer_review.domain.staff_directory import Directory
from peer_review.web.auth import SESSION_COOKIE, Credentials, Unauthenticated
from peer_review.web.errors import Forbidden
from peer_review.web.services import Services

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

    @property
    def id(self) -> str:
        return self.staff.id

    def has(self, *roles: Role) -> bool:
        return any(role in self.staff.roles for role in roles)


def chair_osns(directory: Directory, staff: Staff) -> tuple[str, ...]:
    chaired = [staff.osn] if Role.OSN_CHAIR in staff.roles else []
    deputising = [osn for osn, deputies in directory.deputies.items() if staff.id in deputies]
    return tuple(dict.fromkeys(chaired + deputising))


def _person(services: Services, credentials: Credentials, via_cookie: bool) -> Person:
    directory = services.directory()
    staff = directory.find(credentials.staff_id)
    if staff is None:
        raise Forbidden(f"{credentials.staff_id} is not in the staff directory")
    return Person(staff, credentials, via_cookie, chair_osns(directory, staff))


def authenticate(
    request: Request, services: Services, bearer: HTTPAuthorizationCredentials | None, *, cookie: bool
) -> Person:
    if bearer is not None:
        return _person(services, services.tokens.bearer(bearer.credentials), via_cookie=False)
    session = request.cookies.get(SESSION_COOKIE)
    if cookie and session and services.api.dev_login:
        return _person(services, services.tokens.cookie(session), via_cookie=True)
    raise Unauthenticated("sign in: send `Authorization: Bearer <token>`")


def acting_person(request: Request, services: ServicesDep, bearer: Bearer) -> Person:
    """For actions: a bearer token only, so no other site can make a signed-in browser act (no CSRF)."""
    return authenticate(request, services, bearer, cookie=False)


def reading_person(request: Request, services: ServicesDep, bearer: Bearer) -> Person:
    """For reads: a bearer token or the dev sign-in cookie (so the pages' export links work)."""
    return authenticate(request, services, bearer, cookie=True)


Actor = Annotated[Person, Depends(acting_person)]
Reader = Annotated[Person, Depends(reading_person)]
