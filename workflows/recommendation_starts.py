"""How a review hands its recommendations on at sign-off: one tracked item per recommendation of the signed-off
findings, each with a RecommendationWorkflow of its own (workflows/recommendation.py), started as a child by name.

Imported by workflows/peer_review.py only. Runs inside the workflow: no I/O.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.models import (
        Findings,
        RecommendationInput,
        Referral,
        ReviewPolicy,
        recommendation_id,
        recommendation_workflow_id,
    )
    from peer_review.domain.recommendations import policy_for
    from peer_review.temporal.names import RECOMMENDATION_WORKFLOW

from workflows.side_effects import ReviewRecordKeeper


async def start_tracking(
    referral: Referral, policy: ReviewPolicy, findings: Findings, records: ReviewRecordKeeper
) -> None:
    """Each recommendation of the signed-off findings becomes a tracked item with a workflow of its own. The
    review only starts them and closes at once: they outlive it (ParentClosePolicy.ABANDON) and it never waits
    for them. One id per recommendation, so a start that was already made is never made twice."""
    referral_id = referral.referral_id
    for position, item in enumerate(findings.recommendations, start=1):
        tracked = recommendation_id(referral_id, position)
        try:
            await workflow.start_child_workflow(
                RECOMMENDATION_WORKFLOW,
                RecommendationInput(
                    recommendation_id=tracked,
                    referral_id=referral_id,
                    position=position,
                    recommendation=item,
                    osn=referral.osn,
                    policy=policy_for(item.level, policy),
                ),
                id=recommendation_workflow_id(tracked),
                parent_close_policy=ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            records.note("recommendation_tracked", f"{tracked} (already tracked)")
            continue
        records.note("recommendation_tracked", tracked)
