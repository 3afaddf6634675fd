"""Local feedback: what the site whose practice was reviewed learns at closure — the outcome and the local
recommendations, for the referrer and the site's contacts (internal only). Built from the records database
and the staff directory; who may read it is peer_review.domain.lifecycle's rule."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from peer_review.domain.lifecycle import RejectionKind, may_read_local_feedback
from peer_review.domain.models import Outcome, RecommendationLevel, Staff, Status
from peer_review.domain.staff_directory import Directory
from peer_review.records.read_model import ReviewRecord


class LocalRecommendation(BaseModel):
    text: str
    owner: str
    owner_function: str
    status: str


class LocalFeedback(BaseModel):
    referral_id: str
    outcome: Outcome | None
    referred_on: date
    closed_on: date
    local_recommendations: list[LocalRecommendation]


class FeedbackRefused(Exception):
    def __init__(self, kind: RejectionKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


def local_contacts(record: ReviewRecord, directory: Directory) -> set[str]:
    """The site's contacts, and whoever reads for an owner of one of the review's local recommendations."""
    owners = [
        item.recommendation.owner
        for item in record.recommendations
        if item.recommendation.level is RecommendationLevel.LOCAL
    ]
    lookup = directory.owners(owners)
    return {*directory.site_contacts(record.referral.site), *(c for cs in lookup.contacts.values() for c in cs)}


def local_feedback(record: ReviewRecord, directory: Directory, reader: Staff) -> LocalFeedback:
    """The review's local feedback for `reader`; FeedbackRefused if they may not read it or it is not ready."""
    osn = record.referral.osn
    chair = directory.chair_of(osn)
    chair_side = [*([chair.id] if chair else []), *directory.deputies.get(osn, [])]
    allowed = may_read_local_feedback(
        reader,
        referral=record.referral,
        reviewer=record.row.reviewer,
        chair_side=chair_side,
        local_contacts=local_contacts(record, directory),
    )
    if not allowed:
        raise FeedbackRefused(
            RejectionKind.NOT_PERMITTED,
            f"the local feedback of {record.referral.referral_id} is for its referrer and the site's contacts",
        )
    if record.row.status is not Status.CLOSED:
        raise FeedbackRefused(
            RejectionKind.INVALID_STATE,
            f"review {record.referral.referral_id} is {record.row.status.value}: its feedback is ready at closure",
        )
    return LocalFeedback(
        referral_id=record.referral.referral_id,
        outcome=Outcome(record.row.outcome) if record.row.outcome else None,
        referred_on=record.row.created_at.date(),
        closed_on=record.row.updated_at.date(),
        local_recommendations=[
            LocalRecommendation(
                text=item.recommendation.text,
                owner=item.recommendation.owner,
                owner_function=directory.owner_label(item.recommendation.owner),
                status=item.status,
            )
            for item in record.recommendations
            if item.recommendation.level is RecommendationLevel.LOCAL
        ],
    )
