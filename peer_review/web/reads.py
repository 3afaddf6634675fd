"""Reads of a full record through the API and the pages: the one read rule (peer_review.domain.lifecycle.read_scope)
applied, and every read, allowed or refused, written to the access log (who, what, when)."""

from __future__ import annotations

from peer_review.domain.lifecycle import (
    Parties,
    ReadScope,
    RecommendationScope,
    may_read,
    read_scope,
    recommendation_scope,
)
from peer_review.domain.models import RecommendationView
from peer_review.records import read_model
from peer_review.records.store import AccessEntry
from peer_review.temporal.client import ReferralNotFound
from peer_review.web.deps import Person
from peer_review.web.errors import Forbidden
from peer_review.web.services import Services


async def check_read(services: Services, person: Person, what: str, referral_id: str, parties: Parties) -> None:
    """Let `person` read `what` of one review, or refuse with 403; either way the access log says so."""
    allowed = may_read(person.reader, parties)
    await log_read(services, person, what, referral_id, allowed)
    if not allowed:
        raise Forbidden(f"{person.id} may not read review {referral_id}")


async def check_recorded_read(services: Services, person: Person, what: str, referral_id: str) -> None:
    """As check_read, for a review known from the records database."""
    async with services.records() as store:
        recorded = await read_model.parties(store, referral_id)
    if recorded is None:
        raise ReferralNotFound(f"no records for referral {referral_id}")
    await check_read(services, person, what, referral_id, recorded)


async def log_read(services: Services, person: Person, what: str, referral_id: str | None, allowed: bool) -> None:
    await services.log_access(AccessEntry(person.id, what, referral_id, person.channel, allowed, person.proven_by))


async def scope_of(services: Services, person: Person) -> tuple[ReadScope, tuple[str, ...]]:
    """What a list may show this person: their scope, and the reviews assigned to or referred by them."""
    scope = read_scope(person.reader)
    if scope.everything:
        return scope, ()
    async with services.records() as store:
        return scope, tuple(await read_model.involving(store, person.id))


def recommendations_readable_by(services: Services, person: Person) -> RecommendationScope:
    """The tracked recommendations this person may read (peer_review.domain.lifecycle.recommendation_scope)."""
    return recommendation_scope(person.reader, services.directory().owned_by(person.id))


async def check_recommendation_read(services: Services, person: Person, view: RecommendationView) -> None:
    """Let `person` read one tracked recommendation, or refuse with 403; either way the access log says so."""
    async with services.records() as store:
        review = await read_model.parties(store, view.referral_id)
    allowed = recommendations_readable_by(services, person).allows(osn=view.osn, owner=view.owner, review=review)
    await log_read(services, person, "recommendation", view.referral_id, allowed)
    if not allowed:
        raise Forbidden(f"{person.id} may not read recommendation {view.recommendation_id}")
