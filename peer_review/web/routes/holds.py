"""Legal holds through the API: place or release one on a review's record (the Focal Point and auditors).

A hold applies to the record rather than to the running review, so it is written straight to the records database
with its entry in the keyed retention register, whatever the review's status (closed reviews above all, whose
Temporal history may be long gone). Who may hold is peer_review.domain.lifecycle's (RECORD_RULES); the person
acting is the verified token's subject, and the register entry names the sign-in that proved it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from peer_review.domain.lifecycle import RecordAction, Rejection, check_record_action
from peer_review.domain.models import Contract, LongText
from peer_review.records.retention import Disposed, NoSuchReview, change_hold
from peer_review.temporal.client import ActionRejected, ReferralNotFound
from peer_review.web.deps import Actor, Person, ServicesDep
from peer_review.web.errors import error_responses
from peer_review.web.routes.referrals import RefPath
from peer_review.web.services import Services

router = APIRouter(prefix="/referrals", tags=["retention"])


class HoldRequest(Contract):
    """Why the hold is placed or released: kept in the retention register."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Coroner's inquest opened"}]})

    reason: LongText


class HoldChanged(BaseModel):
    referral_id: str
    held: bool
    # The entry's place in the retention register (the keyed chain of holds, releases and disposal certificates).
    register_seq: int
    at: datetime


SUMMARIES = {
    RecordAction.HOLD: "Place a legal hold: the review's record is never disposed of until released",
    RecordAction.RELEASE: "Release a legal hold: the record is disposed of once past retention",
}
# 409: already held (hold) or not held (release); 404: no such review, or it was disposed of.
HOLD_ERRORS = error_responses(401, 403, 404, 409, 422, 503)


def _route(action: RecordAction) -> Callable[..., Awaitable[HoldChanged]]:
    async def endpoint(referral_id: RefPath, body: HoldRequest, person: Actor, services: ServicesDep) -> HoldChanged:
        return await _change(services, person, referral_id, body.reason, action)

    return endpoint


async def _change(
    services: Services, person: Person, referral_id: str, reason: str, action: RecordAction
) -> HoldChanged:
    try:
        check_record_action(action, person.id, person.staff.roles)
        key = services.sealing_key()
        async with services.records() as store:
            change = await change_hold(
                store,
                referral_id,
                hold=action is RecordAction.HOLD,
                actor=person.id,
                reason=reason,
                proven_by=person.proven_by,
                at=datetime.now(UTC),
                chain_key=key,
            )
    except Disposed as disposed:
        raise ReferralNotFound(str(disposed)) from None
    except NoSuchReview:
        raise ReferralNotFound(f"no records for referral {referral_id}") from None
    except Rejection as rejection:
        raise ActionRejected(rejection.reason, rejection.kind) from None
    return HoldChanged(
        referral_id=referral_id, held=change.held, register_seq=change.entry.entry.seq, at=change.entry.entry.at
    )


for _action in RecordAction:
    router.add_api_route(
        f"/{{referral_id}}/{_action.value}",
        _route(_action),
        methods=["POST"],
        name=_action.value,
        summary=SUMMARIES[_action],
        description="The Focal Point and auditors only (peer_review.domain.lifecycle.RECORD_RULES).",
        response_model=HoldChanged,
        responses=HOLD_ERRORS,
    )
