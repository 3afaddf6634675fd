"""The review lifecycle as data: which action moves which status where, who may take it, and who may read it.

Pure functions only, so the workflow, the CLI, the API and the property tests all read one source of truth.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
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
    ADD_REASON = "add_reason"


class Relation(StrEnum):
    """How a member of staff stands to one particular review."""

    REFERRER = "referrer"
    CHAIR = "chair"
    DEPUTY = "deputy"
    FOCAL_POINT = "focal_point"
    # The assigned reviewer is the one person who submits findings: the author of any findings on the review.
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
    # None: the action amends the review where it stands (see after_reason_added for its one consequence).
    to_status: Status | None
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
    # A case can change while it is reviewed: a reason may be added (never removed) until the review closes.
    ActionName.ADD_REASON: Rule(WAITING_STATUSES, _CHAIR_OR_DEPUTY | {Relation.REFERRER, Relation.FOCAL_POINT}, None),
}


@dataclass(frozen=True)
class Conflict:
    """A relation to the review that bars a person from an action, whatever else entitles them to it."""

    relation: Relation
    reason: str


@dataclass(frozen=True)
class Separation:
    conflicts: tuple[Conflict, ...] = ()
    # Who may act in place of the Chair and deputies when one of them stands aside (see chair_stands_aside).
    stand_ins: frozenset[Relation] = field(default_factory=frozenset)


_DECIDES_OWN = Conflict(Relation.REFERRER, "a referrer never decides on their own referral")
_FOCAL_POINT_STANDS_IN = frozenset({Relation.FOCAL_POINT})

# Separation of duties, the one table: reviews bring *objective* scrutiny. Nobody signs off, returns or clears
# findings they wrote; a referrer never decides, reviews or signs off their own referral; the Chair or deputy
# who reviewed (or referred) is replaced by another Chair or deputy, or by the Focal Point.
SEPARATION_OF_DUTIES: dict[ActionName, Separation] = {
    ActionName.APPROVE: Separation((_DECIDES_OWN,), _FOCAL_POINT_STANDS_IN),
    ActionName.DECLINE: Separation((_DECIDES_OWN,), _FOCAL_POINT_STANDS_IN),
    ActionName.ASSIGN_REVIEWER: Separation(),
    ActionName.SUBMIT_FINDINGS: Separation(
        (Conflict(Relation.REFERRER, "a referrer never reviews their own referral"),)
    ),
    ActionName.CLEAR: Separation((Conflict(Relation.ASSIGNED_REVIEWER, "nobody clears findings they wrote"),)),
    ActionName.SIGN_OFF: Separation(
        (
            Conflict(Relation.ASSIGNED_REVIEWER, "nobody signs off findings they wrote"),
            Conflict(Relation.REFERRER, "a referrer never signs off their own referral"),
        ),
        _FOCAL_POINT_STANDS_IN,
    ),
    ActionName.RETURN_FOR_REWORK: Separation(
        (Conflict(Relation.ASSIGNED_REVIEWER, "nobody returns findings they wrote"),), _FOCAL_POINT_STANDS_IN
    ),
    ActionName.WITHDRAW: Separation(),
    ActionName.ADD_REASON: Separation(),
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
    "chair_decision_skipped",
    "made_mandatory",
    "notification_queued",
    "notification_sent",
    "notification_failed",
    "notification_refused",
    # At closure: a recommendation of the signed-off findings is now tracked by a workflow of its own.
    "recommendation_tracked",
)
# Proven people's refusals beyond this many a day (per review) are counted, not written one by one: a person
# whose requests are all refused cannot grow a review's history and record without limit.
REFUSALS_RECORDED_PER_DAY = 100


def refusal_action(action: StrEnum) -> str:
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


class RecordAction(StrEnum):
    """Actions on a review's record rather than on the review: they apply whatever its status, even closed."""

    HOLD = "hold"
    RELEASE = "release"


# Who may place and release a legal hold (a held review's record is never disposed of): the Focal Point, who gives
# legal clearance, and auditors.
RECORD_RULES: dict[RecordAction, frozenset[Role]] = {
    RecordAction.HOLD: frozenset({Role.FOCAL_POINT, Role.AUDITOR}),
    RecordAction.RELEASE: frozenset({Role.FOCAL_POINT, Role.AUDITOR}),
}


def check_record_action(action: RecordAction, staff_id: str, roles: Collection[Role]) -> None:
    allowed = RECORD_RULES[action]
    if not allowed.intersection(roles):
        who = " or ".join(sorted(role.value.replace("_", " ") for role in allowed))
        raise Rejection(
            RejectionKind.NOT_PERMITTED, f"only the {who} may {action.value} a review's record; {staff_id} is neither"
        )


def read_scope(reader: Reader) -> ReadScope:
    """The one rule for reads: auditors and the Focal Point see every review; a Chair and deputies their OSN's;
    a reviewer the reviews assigned to them; a referrer their own referrals; anyone else nothing."""
    return ReadScope(reader.staff_id, bool(reader.roles & FULL_RECORD_READERS), reader.chair_osns)


# Who may read every tracked recommendation, and the reports over all reviews: auditors, the Focal Point and the
# national leads (who verify national recommendations and act on what the reports show).
RECOMMENDATION_READERS = FULL_RECORD_READERS | {Role.NATIONAL_LEAD}


@dataclass(frozen=True)
class RecommendationScope:
    """The tracked recommendations one person may read: all of them; those of the OSNs they chair; those they own
    (themselves or a team they are a contact of); and those of the reviews they may read."""

    everything: bool
    osns: frozenset[str]
    owners: frozenset[str]
    reviews: ReadScope

    def allows(self, *, osn: str, owner: str, review: Parties | None) -> bool:
        return (
            self.everything
            or osn in self.osns
            or owner in self.owners
            or (review is not None and self.reviews.allows(review))
        )


def recommendation_scope(reader: Reader, owned: frozenset[str]) -> RecommendationScope:
    """The one rule for reading recommendations; `owned`: the owner ids the reader acts for."""
    return RecommendationScope(
        everything=bool(reader.roles & RECOMMENDATION_READERS),
        osns=reader.chair_osns,
        owners=owned,
        reviews=read_scope(reader),
    )


def may_read_reports(reader: Reader) -> bool:
    """Reports cover every review: only those who may read every recommendation read them."""
    return bool(reader.roles & RECOMMENDATION_READERS)


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


def chair_stands_aside(referral: Referral, contacts: ReviewContacts, reviewer: str | None) -> bool:
    """True when the review has no Chair, or its Chair or a deputy referred it or is its reviewer.

    The Focal Point may then stand in for the Chair (SEPARATION_OF_DUTIES), so that a review never waits on
    someone who may not act on it.
    """
    chair_side = {contacts.chair, *contacts.deputies} - {None}
    referrer = referral.referred_by if contacts.referrer_known else None
    return contacts.chair is None or referrer in chair_side or (reviewer is not None and reviewer in chair_side)


def check_action(
    action: ActionName,
    *,
    status: Status,
    relations: frozenset[Relation],
    mandatory: bool,
    findings_submitted: bool,
    chair_aside: bool = False,
) -> None:
    """Raise Rejection unless `action` may be taken now by someone standing in `relations`.

    `chair_aside` is chair_stands_aside() for the review: it lets the action's stand-ins act.
    """
    rule = RULES[action]
    separation = SEPARATION_OF_DUTIES[action]
    standing_in = chair_aside and bool(relations & separation.stand_ins)
    if not relations & rule.who and not standing_in:
        allowed = " or ".join(sorted(r.value.replace("_", " ") for r in rule.who))
        raise Rejection(RejectionKind.NOT_PERMITTED, f"only the {allowed} may {action.value} this review")
    for conflict in separation.conflicts:
        if conflict.relation in relations:
            raise Rejection(RejectionKind.NOT_PERMITTED, f"separation of duties: {conflict.reason}")
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


def next_status(action: ActionName, *, contentious: bool = False) -> tuple[Status | None, Outcome | None]:
    """Where an action leads; None when it leaves the status as it is (add_reason)."""
    rule = RULES[action]
    if action is ActionName.SUBMIT_FINDINGS and contentious:
        return Status.AWAITING_LEGAL_CLEARANCE, None
    return rule.to_status, rule.outcome


def after_reason_added(status: Status, *, was_mandatory: bool, now_mandatory: bool) -> Status | None:
    """A review made mandatory in place skips a pending Chair decision: straight to finding a reviewer."""
    if now_mandatory and not was_mandatory and status is Status.AWAITING_CHAIR_DECISION:
        return Status.AWAITING_REVIEWER
    return None


def check_reviewer_is_independent(candidate_id: str, referral: Referral) -> None:
    """The person assigned will write the findings: the separation of duties for submit_findings applies."""
    relations = frozenset({Relation.REFERRER}) if candidate_id == referral.referred_by else frozenset()
    for conflict in SEPARATION_OF_DUTIES[ActionName.SUBMIT_FINDINGS].conflicts:
        if conflict.relation in relations:
            raise Rejection(RejectionKind.INVALID_INPUT, f"reviewer: separation of duties: {conflict.reason}")


def check_reviewer(candidate: Staff | None, candidate_id: str, referral: Referral) -> None:
    """A reviewer is a *peer*: holds the reviewer role, is not the referrer and works at another site."""
    if candidate is None:
        raise Rejection(RejectionKind.INVALID_INPUT, f"reviewer: {candidate_id} is not in the staff directory")
    if Role.REVIEWER not in candidate.roles:
        raise Rejection(RejectionKind.INVALID_INPUT, f"reviewer: {candidate.id} does not hold the reviewer role")
    check_reviewer_is_independent(candidate.id, referral)
    if candidate.site.casefold() == referral.site.casefold():
        raise Rejection(
            RejectionKind.INVALID_INPUT,
            f"reviewer: {candidate.id} works at {candidate.site}, the site under review; choose a peer elsewhere",
        )


def may_read_local_feedback(
    reader: Staff,
    *,
    referral: Referral,
    reviewer: str | None,
    chair_side: Collection[str],
    local_contacts: Collection[str],
) -> bool:
    """Who may read a closed review's local feedback (its outcome and local recommendations): the referrer and
    the site's contacts, and those who took part in or read the whole review.

    `chair_side`: the OSN's Chair and deputies; `local_contacts`: the site's contacts and those of the owners of
    local recommendations.
    """
    return (
        bool(FULL_RECORD_READERS & set(reader.roles))
        or reader.id in (referral.referred_by, reviewer)
        or reader.id in chair_side
        or reader.id in local_contacts
    )


def _past(action: ActionName) -> str:
    return {ActionName.DECLINE: "declined", ActionName.WITHDRAW: "withdrawn"}[action]
