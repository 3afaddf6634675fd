"""Pydantic contracts for everything that crosses a boundary: files, the CLI, Temporal and the database.

These shapes are a public contract (DESIGN §4–5): integrations in other languages send the same JSON, so
unknown fields are rejected rather than ignored, and every text field has an explicit size limit that keeps
a review far below Temporal's per-payload (2 MB) and per-history limits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# Size limits (documented in the README): generous for real use, small enough that a whole review with
# findings stays well under 1 MB of payload.
MAX_SHORT_TEXT = 200
MAX_LONG_TEXT = 10_000
MAX_ITEMS = 100
# Field limits alone would let findings reach about 5 MB (five lists of 100 items of 10,000 characters), over
# Temporal's 2 MB payload limit. A referral and findings are each held to this much JSON in total.
MAX_JSON_BYTES = 256 * 1024

# ASSUMPTION: the department's own list of themes was not available; this default set (documented in the README)
# is replaced with a YAML file named by PEER_REVIEW_THEMES_FILE.
DEFAULT_THEMES = (
    "communication",
    "timeliness",
    "vulnerability",
    "reasonable_adjustments",
    "decision_making",
    "process_and_guidance",
    "systems_and_tools",
    "training_and_capability",
    "record_keeping",
    "escalation",
)

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# One plain address: no display names, lists or quoting, so a directory entry can never smuggle in a second
# (external) recipient.
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
IDENTIFIER = re.compile(r"[A-Za-z0-9._-]{1,64}")
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=rf"^{IDENTIFIER.pattern}$")
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SHORT_TEXT)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LONG_TEXT)]


def check_total_size(model: BaseModel, name: str) -> None:
    size = len(model.model_dump_json().encode("utf-8"))
    if size > MAX_JSON_BYTES:
        raise ValueError(
            f"{name}: {size:,} bytes of JSON ({size / 1024:,.0f} KB) is over the limit of "
            f"{MAX_JSON_BYTES:,} bytes ({MAX_JSON_BYTES // 1024} KB)"
        )


class Contract(BaseModel):
    """Base for every payload: unknown fields are an error and text may not hold control characters."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_control_characters(cls, data: object) -> object:
        if isinstance(data, dict):
            for key, value in data.items():
                texts = value if isinstance(value, list) else [value]
                for text in texts:
                    if isinstance(text, str) and _CONTROL_CHARS.search(text):
                        raise ValueError(f"{key}: must not contain control characters")
        return data


class ReferralLevel(StrEnum):
    SITE = "site"
    DISTRICT = "district"
    OSN = "osn"
    UNIT = "unit"


class Reason(StrEnum):
    SUICIDE = "suicide_or_alleged_suicide"
    ADDITIONAL_NEEDS = "additional_needs"
    COMPLEX_ISSUE = "complex_issue"
    PERSISTENT_OR_VEXATIOUS = "persistent_or_vexatious"
    OTHER = "other"


class Role(StrEnum):
    CASEWORKER = "caseworker"
    OSN_CHAIR = "osn_chair"
    REVIEWER = "reviewer"
    FOCAL_POINT = "focal_point"
    AUDITOR = "auditor"
    # Verifies national recommendations; told when a mandatory review meets a gap in the directory.
    NATIONAL_LEAD = "national_lead"
    # A system with its own identity in the directory; it may refer on behalf of the referrer it names.
    INTEGRATION = "integration"


class Status(StrEnum):
    REFERRED = "referred"
    TRIAGE = "triage"
    AWAITING_CHAIR_DECISION = "awaiting_chair_decision"
    AWAITING_REVIEWER = "awaiting_reviewer"
    UNDER_REVIEW = "under_review"
    AWAITING_LEGAL_CLEARANCE = "awaiting_legal_clearance"
    AWAITING_SIGN_OFF = "awaiting_sign_off"
    CLOSED = "closed"


class Outcome(StrEnum):
    COMPLETED = "completed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class RecommendationStatus(StrEnum):
    """Where a tracked recommendation stands (peer_review.domain.recommendations has the moves)."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    VERIFIED = "verified"


class Priority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"


class Customer(Contract):
    reference: Identifier
    additional_needs: bool = False


class Referral(Contract):
    referral_id: Identifier
    case_reference: Identifier
    referred_by: Identifier
    referral_level: ReferralLevel
    business_arm: ShortText
    site: ShortText
    osn: Identifier
    reasons: Annotated[list[Reason], Field(min_length=1, max_length=len(Reason))]
    other_reason: ShortText | None = None
    complaint_made: bool
    summary: LongText
    issues_raised: Annotated[list[ShortText], Field(max_length=MAX_ITEMS)] = []
    customer: Customer

    @model_validator(mode="after")
    def _reasons_are_consistent(self) -> Referral:
        if len(set(self.reasons)) != len(self.reasons):
            raise ValueError("reasons: each reason may be given only once")
        if Reason.OTHER in self.reasons and not self.other_reason:
            raise ValueError("other_reason: required when reasons include 'other'")
        if Reason.OTHER not in self.reasons and self.other_reason:
            raise ValueError("other_reason: only allowed when reasons include 'other'")
        if Reason.COMPLEX_ISSUE in self.reasons and not self.issues_raised:
            raise ValueError("issues_raised: a complex_issue referral must list the issues raised")
        check_total_size(self, "referral")
        return self


class ChronologyEntry(Contract):
    date: date
    event: LongText


class StageAssessment(Contract):
    stage: ShortText
    followed: Literal["yes", "partly", "no"]
    evidence: LongText


class IssueAddressed(Contract):
    issue: ShortText
    addressed: bool
    notes: LongText | None = None


class RecommendationLevel(StrEnum):
    LOCAL = "local"
    NATIONAL = "national"


class Recommendation(Contract):
    level: RecommendationLevel
    text: LongText
    # A staff or team id from the directory (checked when the findings are submitted), never free text: a
    # redacted export shows a team's function in its place, and never a person's name or a site.
    owner: Identifier
    # Optional: a theme from the controlled vocabulary (PEER_REVIEW_THEMES_FILE) and the Customer Journey stage the
    # recommendation concerns (one of the review's stages); both are checked when the findings are submitted.
    theme: Identifier | None = None
    stage: ShortText | None = None


class Findings(Contract):
    # The schema says what the model validator checks: an identified underlying error must be explained.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"underlying_error_identified": {"const": True}}},
            "then": {"required": ["underlying_error"], "properties": {"underlying_error": {"type": "string"}}},
        }
    )

    summary: LongText
    chronology: Annotated[list[ChronologyEntry], Field(max_length=MAX_ITEMS)] = []
    customer_journey: Annotated[list[StageAssessment], Field(min_length=1, max_length=MAX_ITEMS)]
    issues_addressed: Annotated[list[IssueAddressed], Field(max_length=MAX_ITEMS)] = []
    underlying_error_identified: bool
    underlying_error: Annotated[
        LongText | None, Field(description="What the error was: required when underlying_error_identified is true.")
    ] = None
    communications_assessment: Annotated[
        LongText | None,
        Field(
            description="Quality assurance of the communications with the customer: required when the review's "
            "reasons include persistent_or_vexatious."
        ),
    ] = None
    impact_assessment: Annotated[
        LongText | None,
        Field(
            description="The impact of an adverse decision or negative information on the customer and the risk "
            "of further escalation: required when the review's reasons include additional_needs."
        ),
    ] = None
    national_improvements_identified: bool
    recommendations: Annotated[list[Recommendation], Field(max_length=MAX_ITEMS)] = []
    lessons_learned: Annotated[list[LongText], Field(max_length=MAX_ITEMS)] = []
    contentious: bool = False

    @model_validator(mode="after")
    def _underlying_error_is_explained(self) -> Findings:
        if self.underlying_error_identified and not self.underlying_error:
            raise ValueError("underlying_error: required when underlying_error_identified is true")
        return self

    @model_validator(mode="after")
    def _within_total_size(self) -> Findings:
        check_total_size(self, "findings")
        return self


class Staff(Contract):
    id: Identifier
    name: ShortText
    email: Annotated[str, StringConstraints(max_length=254, pattern=EMAIL.pattern)]
    site: ShortText
    osn: Identifier
    roles: list[Role]


class StaffLookup(Contract):
    staff: Staff | None


class Team(Contract):
    """A team that can own a recommendation. `function` is what a redacted export shows in its place."""

    id: Identifier
    function: ShortText
    site: ShortText | None = None
    osn: Identifier | None = None
    # Staff who read and act for the team: told where to read a review's local feedback at closure.
    contacts: list[Identifier] = []


class OwnerLookup(Contract):
    """Recommendation owners checked against the directory (the `resolve_owners` activity)."""

    unknown: list[str] = []
    # For every known owner, the staff who read for it: the person themselves, or the team's contacts.
    contacts: dict[str, list[str]] = {}


class ReviewPolicy(Contract):
    """What a review is held to, fixed when it starts so a settings change never rewrites a running review."""

    journey_stages: Annotated[list[ShortText], Field(min_length=1)]
    chair_decision_days: int = Field(5, ge=1, le=60)
    reviewer_assignment_days: int = Field(5, ge=1, le=60)
    review_days: int = Field(20, ge=1, le=120)
    legal_clearance_days: int = Field(5, ge=1, le=60)
    sign_off_days: int = Field(5, ge=1, le=60)
    notification_give_up_hours: float = Field(24.0, gt=0, le=24 * 14)
    # The controlled vocabulary of recommendation themes, and the tracked recommendations' deadlines (working days).
    themes: list[Identifier] = Field(default_factory=lambda: list(DEFAULT_THEMES))
    recommendation_decide_days: int = Field(10, ge=1, le=120)
    recommendation_implement_local_days: int = Field(40, ge=1, le=250)
    recommendation_implement_national_days: int = Field(60, ge=1, le=250)
    recommendation_verify_days: int = Field(10, ge=1, le=120)


class ReviewInput(Contract):
    """The single input of PeerReviewWorkflow."""

    referral: Referral
    policy: ReviewPolicy

    @property
    def actor(self) -> str:
        """Who starts the review: the referrer, whom the proof of a start must name."""
        return self.referral.referred_by


class ReviewContacts(Contract):
    """Who may act on a review, resolved from the staff directory at triage."""

    referrer_known: bool
    chair: Identifier | None
    deputies: list[Identifier] = []
    focal_points: list[Identifier] = []
    national_leads: list[Identifier] = []
    # Contacts of the teams at the referral's site: they read the outcome and local recommendations at closure.
    site_contacts: list[Identifier] = []


# --- Human actions (update and signal payloads). Every action names the acting staff id. -------------


class ActionPayload(Contract):
    actor: Identifier


class Decision(ActionPayload):
    rationale: LongText | None = None


class ReviewerAssignment(ActionPayload):
    reviewer: Identifier


class FindingsSubmission(ActionPayload):
    findings: Findings


class Rework(ActionPayload):
    reason: LongText


class Withdrawal(ActionPayload):
    reason: LongText


class ReasonAddition(ActionPayload):
    """A reason that came to light during the review (`add_reason`). Reasons are never removed."""

    reason: Reason
    # Free text: what came to light; required with `other` (it is the other reason), checked by the workflow.
    detail: LongText | None = None


class ChairDecision(ActionPayload):
    """The fire-and-forget `chair_decision` signal for integrations."""

    decision: Literal["approve", "decline"]
    rationale: LongText | None = None


# --- What the workflow reports. -------------------------------------------------------------------------


class AuditEvent(Contract):
    seq: int
    at: datetime
    # A staff id, or "system". `proven_by` says how the acting person was proven, e.g. "operator alice for S100".
    actor: str
    action: str
    # A review's statuses, or a tracked recommendation's (the two sets share no value).
    from_status: Status | RecommendationStatus | None
    to_status: Status | RecommendationStatus | None
    detail: str | None = None
    proven_by: str | None = None


class Deadline(Contract):
    status: Status
    due_at: datetime


class StatusView(Contract):
    referral_id: str
    status: Status
    stage: str
    outcome: Outcome | None
    mandatory: bool | None
    osn: str
    priority: Priority | None
    chair: str | None
    reviewer: str | None
    deadlines: list[Deadline] = []
    overdue: bool = False
    # The reasons now, including any added during the review.
    reasons: list[Reason] = []
    # The Customer Journey stages fixed into the review when it started: the findings assess exactly these.
    journey_stages: list[str] = []
    referred_by: str | None = None


class RelatedReview(Contract):
    """Another review of the same case or customer: ids, dates and outcomes only."""

    referral_id: str
    same: list[Literal["case_reference", "customer_reference"]]
    status: Status
    outcome: Outcome | None
    referred_at: datetime
    closed_at: datetime | None = None


class NotificationRequest(Contract):
    """A message to one member of staff. Never holds case details: only the id, the step and what to do.

    `seq` is the audit event that stands for the message in the trail: written "notification_queued" by the
    workflow, settled (`settled`) with the outcome in the transaction that writes the message's outbox row.
    """

    idempotency_key: str
    referral_id: str
    recipient: Identifier
    step: str
    seq: int = Field(ge=1)


class RecordBatch(Contract):
    """One write of the record-keeping loop: the current projection and the audit events since the last.

    The referral travels with a review's first batch and the findings with the first batch after each
    submission; the database keeps both, so later batches leave them out and history stays small.
    """

    referral: Referral | None = None
    view: StatusView
    events: list[AuditEvent]
    findings: Findings | None = None
    # The deadlines the review runs with travel with the referral, so the record alone can tell what was due when.
    policy: ReviewPolicy | None = None
    # The messages of these events' moves: their outbox rows are written in the same transaction (an outbox).
    notifications: list[NotificationRequest] = Field(default_factory=list)


class Notifications(Contract):
    """The messages one record write queued for the mailer (one move's or several's): one activity delivers them."""

    requests: list[NotificationRequest]
    # Set once delivery has been retried for the policy's whole give-up period: record as failed what was not sent.
    give_up: bool = False


class NotificationOutcome(Contract):
    idempotency_key: str
    recipient: str
    delivered: bool
    # Given up after the give-up period, as opposed to refused at once (an unknown or external recipient).
    failed: bool = False
    # Waiting in the outbox for the mailer: the delivery that follows the record says what became of it.
    queued: bool = False
    detail: str

    @property
    def audit_action(self) -> str:
        if self.delivered:
            return "notification_sent"
        if self.queued:
            return QUEUED
        return "notification_failed" if self.failed else "notification_refused"


# The audit action of a message from the move that sends it until its outbox row is written.
QUEUED = "notification_queued"


def message_detail(step: str, recipient: str) -> str:
    """How the audit trail names a message: its step and its recipient (a staff id, never an address)."""
    return f"{step} to {recipient}"


def settled(event: AuditEvent, outcome: NotificationOutcome) -> AuditEvent:
    """A message's audit event once its outcome is known: the records database hashes this form, and the workflow
    keeps the same, so the trail it answers queries with matches the record."""
    return event.model_copy(update={"action": outcome.audit_action, "detail": f"{event.detail}: {outcome.detail}"})


def settle(
    events: Sequence[AuditEvent], requests: Sequence[NotificationRequest], outcomes: Sequence[NotificationOutcome]
) -> list[AuditEvent]:
    """`events` with the event of each request settled by its outcome (requests and outcomes in the same order)."""
    by_seq = {request.seq: outcome for request, outcome in zip(requests, outcomes, strict=True)}
    return [settled(event, by_seq[event.seq]) if event.seq in by_seq else event for event in events]


class NotificationOutcomes(Contract):
    """What became of each message of one `Notifications`, in the same order."""

    outcomes: list[NotificationOutcome]


class BatchWritten(Contract):
    """What a record write did: how many audit rows were new, and what became of each message in the batch (in its
    order), written in the same transaction."""

    added: int
    outcomes: list[NotificationOutcome] = Field(default_factory=list)


# --- Tracked recommendations (RecommendationWorkflow). ---------------------------------------------------


def recommendation_id(referral_id: str, position: int) -> str:
    """A recommendation's id everywhere (CLI, routes, records): the referral id and its place in the findings."""
    return f"{referral_id}-R{position}"


# A recommendation id: a referral id, "-R" and the recommendation's place in the findings.
RECOMMENDATION_ID = re.compile(rf"^(?P<referral_id>{IDENTIFIER.pattern})-R(?P<position>[1-9][0-9]{{0,2}})$")
RecommendationId = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=72, pattern=RECOMMENDATION_ID.pattern)
]


class RecommendationPolicy(Contract):
    """Deadlines fixed into one tracked recommendation when it starts (working days)."""

    decide_days: int = Field(ge=1, le=120)
    implement_days: int = Field(ge=1, le=250)
    verify_days: int = Field(ge=1, le=120)
    notification_give_up_hours: float = Field(24.0, gt=0, le=24 * 14)


class RecommendationInput(Contract):
    """The single input of RecommendationWorkflow, made by the review at sign-off."""

    recommendation_id: RecommendationId
    referral_id: Identifier
    position: int = Field(ge=1, le=MAX_ITEMS)
    recommendation: Recommendation
    osn: Identifier
    policy: RecommendationPolicy


class RecommendationContacts(Contract):
    """Who may act on a recommendation, from the staff directory."""

    owner_known: bool
    # Who acts for the owner: the person themselves, or the team's contacts.
    owner_contacts: list[Identifier] = []
    chair: Identifier | None = None
    deputies: list[Identifier] = []
    national_leads: list[Identifier] = []
    focal_points: list[Identifier] = []


class RecommendationParties(Contract):
    """What the directory is asked about a recommendation (the resolve_recommendation_contacts activity)."""

    owner: Identifier
    osn: Identifier


class RecommendationAct(ActionPayload):
    """One action on a tracked recommendation; which field each action needs is in its table."""

    rationale: LongText | None = None
    evidence: LongText | None = None
    reason: LongText | None = None
    owner: Identifier | None = None


class RecommendationView(Contract):
    recommendation_id: str
    referral_id: str
    position: int
    level: RecommendationLevel
    text: str
    owner: str
    theme: str | None = None
    stage: str | None = None
    osn: str
    status: RecommendationStatus
    due_at: datetime | None = None
    overdue: bool = False
    rationale: str | None = None
    evidence: str | None = None


class RegisterEntry(BaseModel):
    """One row of the recommendations register, as the CLI, the API and the register page show it."""

    recommendation_id: str | None
    referral_id: str
    level: str
    text: str
    owner: str
    theme: str | None
    stage: str | None
    osn: str | None
    status: str
    due_at: datetime | None
    overdue: bool
    recorded_at: datetime

    @property
    def recommendation(self) -> Recommendation:
        """The recommendation as the findings made it (its level, text, owner, theme and stage)."""
        return Recommendation.model_validate(self.model_dump(include=set(Recommendation.model_fields)))


class RecommendationBatch(Contract):
    """One write of a recommendation's record: its current state and the audit events since the last."""

    view: RecommendationView
    events: list[AuditEvent]
    notifications: list[NotificationRequest] = Field(default_factory=list)


def recommendation_workflow_id(rec_id: str) -> str:
    """The workflow that tracks a recommendation: `recommendation-<referral_id>-R<n>`."""
    return f"recommendation-{rec_id}"
