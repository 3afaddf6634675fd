"""How a review hands its recommendations on at sign-off: one tracked item per recommendation of the signed-off
findings, each with a RecommendationWorkflow of its own (workflows/recommendation.py), started as a child by name.

Imported by workflows/peer_review.py only. Runs inside the workflow: no I/O.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.models import (
        Findings,
        Recommendation,
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
    for them. One id per recommendation, so a start that was already made is never made twice.

    Every start goes out in the same workflow task: one at a time, each would wait for the server to confirm the
    one before, a workflow task (three events) per further recommendation. The record notes them in the order of
    the findings, whichever the server confirms first."""
    started = await asyncio.gather(
        *(_start(referral, policy, position, item) for position, item in enumerate(findings.recommendations, start=1))
    )
    for note in started:
        records.note("recommendation_tracked", note)


async def _start(referral: Referral, policy: ReviewPolicy, position: int, item: Recommendation) -> str:
    """Start the workflow of the recommendation at `position` in the findings; returns what the record notes."""
    tracked = recommendation_id(referral.referral_id, position)
    try:
        await workflow.start_child_workflow(
            RECOMMENDATION_WORKFLOW,
            RecommendationInput(
                recommendation_id=tracked,
                referral_id=referral.referral_id,
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
        return f"{tracked} (already tracked)"
    return tracked
