"""The human actions on a review, as one table: it names the workflow's updates, the CLI commands and the
HTTP routes, and says what each one carries.

Each action's name is the name of the workflow update that performs it (tests check the two agree); its
command is the same name with dashes (`assign_reviewer` → `peer-review assign-reviewer` and
`POST /referrals/{id}/assign-reviewer`), and so is its route unless the table names another (`add_reason` is
`POST /referrals/{id}/reasons`: it adds to the review's reasons). Who may take an action, and when, is
peer_review.domain.lifecycle's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from peer_review.domain import models
from peer_review.domain.lifecycle import ActionName


class Input(StrEnum):
    """What an action needs besides the acting person and its note."""

    NOTHING = "nothing"
    REVIEWER = "reviewer"  # the staff id of the peer reviewer
    FINDINGS = "findings"  # a Findings document
    REASON = "reason"  # a Reason to add


@dataclass(frozen=True)
class Note:
    """The free text an action keeps in the audit trail: its payload field, whether it is required, its help."""

    field: str
    required: bool
    help: str


@dataclass(frozen=True)
class Action:
    name: ActionName
    payload: type[models.ActionPayload]
    summary: str
    note: Note | None = None
    needs: Input = Input.NOTHING
    route: str | None = None

    @property
    def command(self) -> str:
        """The CLI command."""
        return self.name.value.replace("_", "-")

    @property
    def path(self) -> str:
        """The last part of the HTTP route: the command unless the table names another."""
        return self.route or self.command


ACTIONS: tuple[Action, ...] = (
    Action(ActionName.APPROVE, models.Decision, "Approve a referral for review (OSN Chair or deputy).",
           Note("rationale", required=False, help="Why the review is appropriate.")),
    Action(ActionName.DECLINE, models.Decision,
           "Decline a referral, with a rationale (OSN Chair or deputy; never a mandatory review).",
           Note("rationale", required=True, help="Why no review is needed (required).")),
    Action(ActionName.ASSIGN_REVIEWER, models.ReviewerAssignment,
           "Assign a peer reviewer from another site (Chair or Focal Point).", needs=Input.REVIEWER),
    Action(ActionName.SUBMIT_FINDINGS, models.FindingsSubmission,
           "Submit findings from a Findings JSON file (the assigned reviewer).", needs=Input.FINDINGS),
    Action(ActionName.CLEAR, models.Decision, "Give legal clearance to contentious findings (Focal Point).",
           Note("rationale", required=False, help="A note kept in the audit trail.")),
    Action(ActionName.SIGN_OFF, models.Decision, "Sign off the findings and close the review (Chair).",
           Note("rationale", required=False, help="A note kept in the audit trail.")),
    Action(ActionName.RETURN_FOR_REWORK, models.Rework, "Return the findings to the reviewer (Chair).",
           Note("reason", required=True, help="What needs reworking.")),
    Action(ActionName.WITHDRAW, models.Withdrawal,
           "Withdraw a referral before findings (referrer or Chair; never a mandatory review).",
           Note("reason", required=True, help="Why the referral is withdrawn.")),
    Action(ActionName.ADD_REASON, models.ReasonAddition,
           "Add a reason that came to light during the review (referrer, Chair or Focal Point); "
           "suicide_or_alleged_suicide makes it mandatory in place. Reasons are never removed.",
           Note("detail", required=False, help="What came to light (required with 'other')."),
           needs=Input.REASON, route="reasons"),
)  # fmt: skip

ACTION_BY_NAME = {action.name: action for action in ACTIONS}
