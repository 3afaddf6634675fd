"""The actions on a tracked recommendation, as one table: who may take each, in which status, where it leads and
what it requires. Pure.

It names RecommendationWorkflow's updates, the `peer-review recommendation ACTION` commands and the
`POST /recommendations/{id}/{action}` routes, as peer_review.domain.actions does for reviews.

    proposed ─accept─▶ accepted ─start─▶ in_progress ─implement (evidence)─▶ implemented ─verify─▶ verified
        └─decline (rationale)─▶ not_accepted                      ▲──────── reopen (reason) ──────┘

The owner (a staff id, or a team's contacts) accepts, declines, starts and implements; the national lead verifies
national recommendations and the OSN Chair (or a deputy) local ones; a verifier reopens; the national lead may
reassign the owner. Nobody verifies an implementation they made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from peer_review.domain.deadlines import Wait, wait_from
from peer_review.domain.lifecycle import Rejection, RejectionKind
from peer_review.domain.models import (
    RecommendationAct,
    RecommendationContacts,
    RecommendationLevel,
    RecommendationPolicy,
    RecommendationStatus,
    ReviewPolicy,
)

S = RecommendationStatus


class RecommendationAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    START = "start"
    IMPLEMENT = "implement"
    VERIFY = "verify"
    REOPEN = "reopen"
    REASSIGN = "reassign"


class Party(StrEnum):
    """How a member of staff stands to one recommendation."""

    OWNER = "owner"
    NATIONAL_LEAD = "national_lead"
    CHAIR = "chair"  # the OSN Chair of the review's OSN, or a listed deputy


class Needs(StrEnum):
    """The field of RecommendationAct an action requires, besides the acting person."""

    NOTHING = "nothing"
    RATIONALE = "rationale"
    EVIDENCE = "evidence"
    REASON = "reason"
    OWNER = "owner"


# Who verifies: the national lead for national recommendations, the OSN Chair for local ones.
VERIFIER = {RecommendationLevel.NATIONAL: Party.NATIONAL_LEAD, RecommendationLevel.LOCAL: Party.CHAIR}


@dataclass(frozen=True)
class Step:
    action: RecommendationAction
    from_statuses: frozenset[RecommendationStatus]
    # None: the level's verifier (VERIFIER).
    who: frozenset[Party] | None
    # None: the recommendation stays where it is (reassign).
    to_status: RecommendationStatus | None
    needs: Needs
    summary: str

    @property
    def command(self) -> str:
        return self.action.value


_OWNER = frozenset({Party.OWNER})
_OPEN = frozenset({S.PROPOSED, S.ACCEPTED, S.IN_PROGRESS})

STEPS: tuple[Step, ...] = (
    Step(RecommendationAction.ACCEPT, frozenset({S.PROPOSED}), _OWNER, S.ACCEPTED, Needs.NOTHING,
         "Accept the recommendation (its owner)."),
    Step(RecommendationAction.DECLINE, frozenset({S.PROPOSED}), _OWNER, S.NOT_ACCEPTED, Needs.RATIONALE,
         "Decline the recommendation, with a rationale (its owner)."),
    Step(RecommendationAction.START, frozenset({S.ACCEPTED}), _OWNER, S.IN_PROGRESS, Needs.NOTHING,
         "Start implementing it (its owner)."),
    Step(RecommendationAction.IMPLEMENT, frozenset({S.IN_PROGRESS}), _OWNER, S.IMPLEMENTED, Needs.EVIDENCE,
         "Mark it implemented, with evidence (its owner)."),
    Step(RecommendationAction.VERIFY, frozenset({S.IMPLEMENTED}), None, S.VERIFIED, Needs.NOTHING,
         "Verify the implementation (national lead for national, OSN Chair for local)."),
    Step(RecommendationAction.REOPEN, frozenset({S.IMPLEMENTED}), None, S.IN_PROGRESS, Needs.REASON,
         "Reopen an implemented recommendation, with a reason (its verifier or the national lead)."),
    Step(RecommendationAction.REASSIGN, _OPEN, frozenset({Party.NATIONAL_LEAD}), None, Needs.OWNER,
         "Give the recommendation another owner (national lead)."),
)  # fmt: skip

STEP_BY_ACTION = {step.action: step for step in STEPS}

# Statuses in which someone must act, and the deadline that runs there. The implementation deadline runs from
# acceptance to implementation (starting work does not restart it); a reopened recommendation gets a new one.
FINAL_STATUSES = frozenset({S.NOT_ACCEPTED, S.VERIFIED})


def allowed(step: Step, level: RecommendationLevel) -> frozenset[Party]:
    if step.who is not None:
        return step.who
    verifier = frozenset({VERIFIER[level]})
    # The national lead may reopen a local recommendation too.
    return verifier | {Party.NATIONAL_LEAD} if step.action is RecommendationAction.REOPEN else verifier


def parties_of(actor: str, contacts: RecommendationContacts) -> frozenset[Party]:
    found: set[Party] = set()
    if actor in contacts.owner_contacts:
        found.add(Party.OWNER)
    if actor in contacts.national_leads:
        found.add(Party.NATIONAL_LEAD)
    if actor == contacts.chair or actor in contacts.deputies:
        found.add(Party.CHAIR)
    return frozenset(found)


def check_step(
    action: RecommendationAction,
    *,
    status: RecommendationStatus,
    level: RecommendationLevel,
    parties: frozenset[Party],
    implemented_by: str | None,
    actor: str,
    request: RecommendationAct,
) -> None:
    """Raise Rejection unless `actor` (standing in `parties`) may take `action` now with what `request` carries."""
    step = STEP_BY_ACTION[action]
    who = allowed(step, level)
    if not parties & who:
        names = " or ".join(sorted(p.value.replace("_", " ") for p in who))
        raise Rejection(RejectionKind.NOT_PERMITTED, f"only the {names} may {action.value} this recommendation")
    if action is RecommendationAction.VERIFY and actor == implemented_by:
        raise Rejection(RejectionKind.NOT_PERMITTED, "separation of duties: nobody verifies what they implemented")
    if status not in step.from_statuses:
        raise Rejection(RejectionKind.INVALID_STATE, f"cannot {action.value} a recommendation that is {status.value}")
    if step.needs is not Needs.NOTHING and not getattr(request, step.needs.value):
        raise Rejection(RejectionKind.INVALID_INPUT, f"{step.needs.value}: required to {action.value}")


def policy_for(level: RecommendationLevel, review: ReviewPolicy) -> RecommendationPolicy:
    """The deadlines fixed into a recommendation of `level`, from those fixed into its review."""
    implement = (
        review.recommendation_implement_national_days
        if level is RecommendationLevel.NATIONAL
        else review.recommendation_implement_local_days
    )
    return RecommendationPolicy(
        decide_days=review.recommendation_decide_days,
        implement_days=implement,
        verify_days=review.recommendation_verify_days,
        notification_give_up_hours=review.notification_give_up_hours,
    )


def next_wait(
    status: RecommendationStatus,
    entered_at: datetime,
    policy: RecommendationPolicy,
    current: Wait[RecommendationStatus] | None,
) -> Wait[RecommendationStatus] | None:
    """The deadline after a move into `status`: deciding, implementing (kept from acceptance while work starts),
    verifying; none once final."""
    if status is S.PROPOSED:
        return wait_from(status, entered_at, policy.decide_days)
    if status is S.ACCEPTED:
        return wait_from(status, entered_at, policy.implement_days)
    if status is S.IN_PROGRESS:
        if current is not None and current.status is S.ACCEPTED:
            return current
        return wait_from(status, entered_at, policy.implement_days)
    if status is S.IMPLEMENTED:
        return wait_from(status, entered_at, policy.verify_days)
    return None


def reminder_recipients(
    status: RecommendationStatus, level: RecommendationLevel, contacts: RecommendationContacts
) -> list[str]:
    """Whoever must act next: the owner, or the verifier once implemented."""
    if status is S.IMPLEMENTED:
        return verifiers(level, contacts)
    return list(contacts.owner_contacts)


def verifiers(level: RecommendationLevel, contacts: RecommendationContacts) -> list[str]:
    if level is RecommendationLevel.NATIONAL:
        return list(contacts.national_leads)
    return [c for c in [contacts.chair, *contacts.deputies] if c]


def escalation_recipients(level: RecommendationLevel, contacts: RecommendationContacts, escalations: int) -> list[str]:
    """The national lead for a national recommendation, the OSN Chair for a local one; from the second escalation
    the national lead and the Focal Point too."""
    first = list(contacts.national_leads) if level is RecommendationLevel.NATIONAL else verifiers(level, contacts)
    if escalations > 1 or not first:
        first += [c for c in [*contacts.national_leads, *contacts.focal_points] if c not in first]
    return first


def steps_open_to(parties: frozenset[Party], status: RecommendationStatus, level: RecommendationLevel) -> list[Step]:
    """The steps someone standing in `parties` may take now (what the register page offers them as forms)."""
    return [step for step in STEPS if status in step.from_statuses and parties & allowed(step, level)]
