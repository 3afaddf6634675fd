"""The review lifecycle as data: which action moves which status where, and who may take it.

Pure functions only, so the workflow, the CLI and the property tests all read one source of truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from peer_review.domain.models import Outcome, Referral, ReviewContacts, Role, Staff, Status


class ActionName(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    ASSIGN_REVIEWER = "assign_reviewer"
    SUBMIT_FINDINGS = "submit_findings"
    CLEAR = "clear"
    SIGN_OFF = "sign_off"
    RETURN_FOR_REWORK = "return_for_rework"
    WITHDRAW = "withdraw"


class Relation(StrEnum):
    """How a member of staff stands to one particular review."""

    REFERRER = "referrer"
    CHAIR = "chair"
    DEPUTY = "deputy"
    FOCAL_POINT = "focal_point"
    ASSIGNED_REVIEWER = "assigned_reviewer"


class RejectionKind(StrEnum):
    NOT_PERMITTED = "NotPermitted"
    INVALID_STATE = "InvalidState"
    INVALID_INPUT = "InvalidInput"


class Rejection(Exception):
    """An action that may not happen. It changes nothing; `reason` is shown to the person who tried."""

    def __init__(self, kind: RejectionKind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


STAGES: dict[Status, str] = {
    Status.REFERRED: "referral",
    Status.TRIAGE: "triage",
    Status.AWAITING_CHAIR_DECISION: "chair decision",
    Status.AWAITING_REVIEWER: "review",
    Status.UNDER_REVIEW: "review",
    Status.AWAITING_LEGAL_CLEARANCE: "review",
    Status.AWAITING_SIGN_OFF: "review",
    Status.CLOSED: "closure",
}

# A review waits on people in these statuses; each has a working-day deadline.
WAITING_STATUSES = frozenset(
    {
        Status.AWAITING_CHAIR_DECISION,
        Status.AWAITING_REVIEWER,
        Status.UNDER_REVIEW,
        Status.AWAITING_LEGAL_CLEARANCE,
        Status.AWAITING_SIGN_OFF,
    }
)

_CHAIR_OR_DEPUTY = frozenset({Relation.CHAIR, Relation.DEPUTY})


@dataclass(frozen=True)
class Rule:
    from_statuses: frozenset[Status]
    who: frozenset[Relation]
    to_status: Status
    outcome: Outcome | None = None


RULES: dict[ActionName, Rule] = {
    ActionName.APPROVE: Rule(frozenset({Status.AWAITING_CHAIR_DECISION}), _CHAIR_OR_DEPUTY, Status.AWAITING_REVIEWER),
    ActionName.DECLINE: Rule(
        frozenset({Status.AWAITING_CHAIR_DECISION}), _CHAIR_OR_DEPUTY, Status.CLOSED, Outcome.DECLINED
    ),
    ActionName.ASSIGN_REVIEWER: Rule(
        frozenset({Status.AWAITING_REVIEWER}),
        _CHAIR_OR_DEPUTY | {Relation.FOCAL_POINT},
        Status.UNDER_REVIEW,
    ),
    # Contentious findings go to legal clearance first: see next_status.
    ActionName.SUBMIT_FINDINGS: Rule(
        frozenset({Status.UNDER_REVIEW}), frozenset({Relation.ASSIGNED_REVIEWER}), Status.AWAITING_SIGN_OFF
    ),
    ActionName.CLEAR: Rule(
        frozenset({Status.AWAITING_LEGAL_CLEARANCE}),
        frozenset({Relation.FOCAL_POINT}),
        Status.AWAITING_SIGN_OFF,
    ),
    ActionName.SIGN_OFF: Rule(
        frozenset({Status.AWAITING_SIGN_OFF}), _CHAIR_OR_DEPUTY, Status.CLOSED, Outcome.COMPLETED
    ),
    ActionName.RETURN_FOR_REWORK: Rule(frozenset({Status.AWAITING_SIGN_OFF}), _CHAIR_OR_DEPUTY, Status.UNDER_REVIEW),
    ActionName.WITHDRAW: Rule(
        frozenset({Status.AWAITING_CHAIR_DECISION, Status.AWAITING_REVIEWER, Status.UNDER_REVIEW}),
        _CHAIR_OR_DEPUTY | {Relation.REFERRER},
        Status.CLOSED,
        Outcome.WITHDRAWN,
    ),
}


# Who may read a review's full record (audit trail, full export, auditor pages): everyone else sees only
# the redacted export.
FULL_RECORD_READERS = frozenset({Role.AUDITOR, Role.FOCAL_POINT})


def may_read_full_record(roles: Iterable[Role]) -> bool:
    return bool(FULL_RECORD_READERS & set(roles))


def stage_of(status: Status) -> str:
    return STAGES[status]


def relations_of(
    actor: str, *, referral: Referral, contacts: ReviewContacts, reviewer: str | None
) -> frozenset[Relation]:
    relations: set[Relation] = set()
    if actor == referral.referred_by and contacts.referrer_known:
        relations.add(Relation.REFERRER)
    if actor == contacts.chair:
        relations.add(Relation.CHAIR)
    if actor in contacts.deputies:
        relations.add(Relation.DEPUTY)
    if actor in contacts.focal_points:
        relations.add(Relation.FOCAL_POINT)
    if reviewer is not None and actor == reviewer:
        relations.add(Relation.ASSIGNED_REVIEWER)
    return frozenset(relations)


def check_action(
    action: ActionName,
    *,
    status: Status,
    relations: frozenset[Relation],
    mandatory: bool,
    findings_submitted: bool,
) -> None:
    """Raise Rejection unless `action` may be taken now by someone standing in `relations`."""
    rule = RULES[action]
    if not relations & rule.who:
        allowed = " or ".join(sorted(r.value.replace("_", " ") for r in rule.who))
        raise Rejection(RejectionKind.NOT_PERMITTED, f"only the {allowed} may {action.value} this review")
    if mandatory and action in (ActionName.DECLINE, ActionName.WITHDRAW):
        raise Rejection(
            RejectionKind.INVALID_STATE,
            f"a mandatory (suicide-related) review cannot be {_past(action)}",
        )
    if action is ActionName.WITHDRAW and findings_submitted:
        raise Rejection(RejectionKind.INVALID_STATE, "a review cannot be withdrawn once findings exist")
    if status not in rule.from_statuses:
        raise Rejection(
            RejectionKind.INVALID_STATE,
            f"cannot {action.value} a review that is {status.value}",
        )


def next_status(action: ActionName, *, contentious: bool = False) -> tuple[Status, Outcome | None]:
    rule = RULES[action]
    if action is ActionName.SUBMIT_FINDINGS and contentious:
        return Status.AWAITING_LEGAL_CLEARANCE, None
    return rule.to_status, rule.outcome


def check_reviewer(candidate: Staff | None, candidate_id: str, referral: Referral) -> None:
    """A reviewer is a *peer*: holds the reviewer role, is not the referrer and works at another site."""
    if candidate is None:
        raise Rejection(RejectionKind.INVALID_INPUT, f"reviewer: {candidate_id} is not in the staff directory")
    if Role.REVIEWER not in candidate.roles:
        raise Rejection(RejectionKind.INVALID_INPUT, f"reviewer: {candidate.id} does not hold the reviewer role")
    if candidate.id == referral.referred_by:
        raise Rejection(RejectionKind.INVALID_INPUT, "reviewer: the referrer cannot review their own referral")
    if candidate.site.casefold() == referral.site.casefold():
        raise Rejection(
            RejectionKind.INVALID_INPUT,
            f"reviewer: {candidate.id} works at {candidate.site}, the site under review; choose a peer elsewhere",
        )


def _past(action: ActionName) -> str:
    return {ActionName.DECLINE: "declined", ActionName.WITHDRAW: "withdrawn"}[action]
