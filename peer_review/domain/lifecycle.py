"""The review lifecycle as data: which action moves which status where, who may take it, and who may read it.

Pure functions only, so the workflow, the CLI, the API and the property tests all read one source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from peer_review.domain.models import Outcome, Referral, ReviewContacts, Role, Staff, Status, StatusView


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
    # No valid proof of the acting person came with the request (peer_review.domain.proofs).
    UNPROVEN = "Unproven"


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


def stage_of(status: Status) -> str:
    return STAGES[status]


# --- What the record calls things: only these names, never text a client sent. ---------------------------

SYSTEM_ACTIONS = (
    "referred",
    "triage",
    "triaged",
    "triaged_mandatory",
    "reminder",
    "escalated",
    "directory_warning",
    "contacts_changed",
    "notification_sent",
    "notification_failed",
    "notification_refused",
)
# Proven people's refusals beyond this many a day (per review) are counted, not written one by one: a person
# whose requests are all refused cannot grow a review's history and record without limit.
REFUSALS_RECORDED_PER_DAY = 100


def refusal_action(action: ActionName) -> str:
    return f"{action.value}_rejected"


def audit_actions() -> list[str]:
    """Every action name the record can hold."""
    return [*SYSTEM_ACTIONS, *(a.value for a in ActionName), *(refusal_action(a) for a in ActionName)]


# --- Who may read a review. ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """A member of staff asking to read, as the directory knows them."""

    staff_id: str
    roles: frozenset[Role]
    # The OSNs whose reviews this person decides: as their Chair or as a listed deputy.
    chair_osns: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Parties:
    """What decides who may read one review."""

    osn: str
    referred_by: str | None
    reviewer: str | None

    @classmethod
    def of(cls, view: StatusView) -> Parties:
        return cls(view.osn, view.referred_by, view.reviewer)


# Who may read every review's full record (and search them all on the auditor pages).
FULL_RECORD_READERS = frozenset({Role.AUDITOR, Role.FOCAL_POINT})


@dataclass(frozen=True)
class ReadScope:
    """The reviews one person may read: all of them, an OSN's, those assigned to them, or their own referrals."""

    staff_id: str
    everything: bool
    osns: frozenset[str]

    def allows(self, parties: Parties) -> bool:
        return (
            self.everything
            or parties.osn in self.osns
            or parties.reviewer == self.staff_id
            or parties.referred_by == self.staff_id
        )


def read_scope(reader: Reader) -> ReadScope:
    """The one rule for reads: auditors and the Focal Point see every review; a Chair and deputies their OSN's;
    a reviewer the reviews assigned to them; a referrer their own referrals; anyone else nothing."""
    return ReadScope(reader.staff_id, bool(reader.roles & FULL_RECORD_READERS), reader.chair_osns)


def may_read(reader: Reader, parties: Parties) -> bool:
    return read_scope(reader).allows(parties)


def unreadable(reader: Reader, referral_id: str) -> Rejection:
    return Rejection(RejectionKind.NOT_PERMITTED, f"{reader.staff_id} may not read review {referral_id}")


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


def contact_changes(before: ReviewContacts, after: ReviewContacts) -> list[str]:
    """What changed in who may act on a review, as the record states it (e.g. "chair S100 -> S105")."""

    def shown(ids: list[str] | str | None) -> str:
        if isinstance(ids, list):
            return ", ".join(ids) or "none"
        return ids or "none"

    changes = []
    for label, old, new in (
        ("chair", before.chair, after.chair),
        ("deputies", before.deputies, after.deputies),
        ("focal points", before.focal_points, after.focal_points),
    ):
        if old != new:
            changes.append(f"{label} {shown(old)} -> {shown(new)}")
    if before.referrer_known != after.referrer_known:
        changes.append("referrer " + ("back in" if after.referrer_known else "no longer in") + " the staff directory")
    return changes


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
