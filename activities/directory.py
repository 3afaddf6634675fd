"""Staff directory look-ups for the workflow (who chairs an OSN, a reviewer's site, recommendation owners)."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from peer_review.domain.models import (
    OwnerLookup,
    RecommendationContacts,
    RecommendationParties,
    Referral,
    ReviewContacts,
    StaffLookup,
)
from peer_review.domain.staff_directory import load_directory
from peer_review.temporal.names import FIND_STAFF, RESOLVE_CONTACTS, RESOLVE_OWNERS, RESOLVE_RECOMMENDATION_CONTACTS


class DirectoryActivities:
    def __init__(self, path: Path) -> None:
        self.path = path

    @activity.defn(name=RESOLVE_CONTACTS)
    async def resolve_contacts(self, referral: Referral) -> ReviewContacts:
        return load_directory(self.path).contacts_for(referral)

    @activity.defn(name=FIND_STAFF)
    async def find_staff(self, staff_id: str) -> StaffLookup:
        return StaffLookup(staff=load_directory(self.path).find(staff_id))

    @activity.defn(name=RESOLVE_OWNERS)
    async def resolve_owners(self, owner_ids: list[str]) -> OwnerLookup:
        return load_directory(self.path).owners(owner_ids)

    @activity.defn(name=RESOLVE_RECOMMENDATION_CONTACTS)
    async def resolve_recommendation_contacts(self, parties: RecommendationParties) -> RecommendationContacts:
        return load_directory(self.path).recommendation_contacts(parties)
