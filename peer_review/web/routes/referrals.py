"""The JSON API: start a review, act on it, read its status, its audit record and lists of reviews.

Action bodies carry no `actor`: the acting person is the token's subject (peer_review.web.deps), and the
payload models of peer_review.domain.models are built here with it. Errors are raised as the client's exceptions
and turned into statuses in one place (peer_review.web.app).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Response
from pydantic import BaseModel, ConfigDict

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import (
    IDENTIFIER,
    ActionPayload,
    AuditEvent,
    Contract,
    Decision,
    Findings,
    FindingsSubmission,
    Identifier,
    LongText,
    Reason,
    Referral,
    ReviewerAssignment,
    Rework,
    Role,
    Status,
    StatusView,
    Withdrawal,
)
from peer_review.temporal.client import ListedReview, ListFilter, ReferralNotFound, ReferResult
from peer_review.web.deps import Actor, Reader, ServicesDep
from peer_review.web.errors import Forbidden, error_responses
from peer_review.web.examples import FINDINGS_EXAMPLE, REFERRAL_EXAMPLE
from peer_review.web.services import Services

router = APIRouter(prefix="/referrals", tags=["referrals"])

RefPath = Annotated[
    str,
    Path(
        description="The referral id, e.g. PR-2026-0001.",
        min_length=1,
        max_length=64,
        pattern=rf"^{IDENTIFIER.pattern}$",
        examples=["PR-2026-0001"],
    ),
]
# As for the CLI's full export: the audit record holds rationales and reasons, so auditors and the Focal Point.
AUDIT_READERS = (Role.AUDITOR, Role.FOCAL_POINT)
ACTION_ERRORS = error_responses(401, 403, 404, 409, 422, 503)


# --- Request bodies: the action payloads without `actor`. ------------------------------------------------


class ApproveRequest(Contract):
    model_config = ConfigDict(json_schema_extra={"examples": [{"rationale": "Several issues to check"}]})

    rationale: LongText | None = None


class DeclineRequest(Contract):
    model_config = ConfigDict(json_schema_extra={"examples": [{"rationale": "Reviewed at district level last month"}]})

    rationale: LongText


class AssignReviewerRequest(Contract):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reviewer": "S400"}]})

    reviewer: Identifier


class NoteRequest(Contract):
    """Optional note kept in the audit trail (clear, sign-off)."""

    rationale: LongText | None = None


class ReasonRequest(Contract):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Add the March letters to the chronology"}]})

    reason: LongText


class AuditExport(BaseModel):
    referral_id: str
    events: list[AuditEvent]
    chain_valid: bool
    first_broken_seq: int | None = None
    problem: str | None = None


# --- Starting, reading and listing. ---------------------------------------------------------------------


@router.post(
    "",
    status_code=201,
    summary="Start a review (idempotent on referral_id)",
    responses={
        200: {"model": ReferResult, "description": "A review with this referral id already exists"},
        201: {"description": "A new review was started"},
        **error_responses(401, 403, 422, 503),
    },
)
async def start_review(
    referral: Annotated[Referral, Body(examples=[REFERRAL_EXAMPLE])],
    person: Actor,
    services: ServicesDep,
    response: Response,
) -> ReferResult:
    """Answers as soon as the workflow has started; triage runs after. `referred_by` must be the caller."""
    if referral.referred_by != person.id:
        raise Forbidden(f"referred_by: you are signed in as {person.id}; a referral is made in your own name")
    result = await (await services.reviews()).refer(referral)
    response.headers["Location"] = f"/referrals/{result.referral_id}"
    if result.already_started:
        response.status_code = 200
    return result


@router.get("", summary="List reviews", responses=error_responses(401, 403, 422, 503))
async def list_reviews(
    person: Reader,
    services: ServicesDep,
    status: Status | None = None,
    osn: Annotated[str | None, Query(min_length=1, max_length=64, pattern=rf"^{IDENTIFIER.pattern}$")] = None,
    reason: Reason | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ListedReview]:
    """Reviews found by Temporal's visibility store (search attributes), newest first."""
    selection = ListFilter(status=status, osn=osn, reason=reason, overdue=overdue)
    return await (await services.reviews()).list(selection, limit=limit)


@router.get("/{referral_id}", summary="Where a review stands", responses=error_responses(401, 403, 404, 422, 503))
async def review_status(referral_id: RefPath, person: Reader, services: ServicesDep) -> StatusView:
    return await (await services.reviews()).status(referral_id)


@router.get(
    "/{referral_id}/audit",
    summary="The audit record from the records database, with its hash chain checked",
    response_model=AuditExport,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV with format=csv"},
        **error_responses(401, 403, 404, 422, 503),
    },
)
async def audit_record(
    referral_id: RefPath,
    person: Reader,
    services: ServicesDep,
    export_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> AuditExport | Response:
    if not person.has(*AUDIT_READERS):
        raise Forbidden("only auditors and the Focal Point may read audit records")
    export = await read_audit(services, referral_id)
    if export_format == "csv":
        return Response(
            audit_csv(export),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="audit-{referral_id}.csv"'},
        )
    return export


async def read_audit(services: Services, referral_id: str) -> AuditExport:
    async with services.records() as store:
        record = await store.audit_record(referral_id)
    if record is None:
        raise ReferralNotFound(f"no records for referral {referral_id}")
    check = record.verify()
    return AuditExport(
        referral_id=referral_id,
        events=[row.event for row in record.events],
        chain_valid=check.valid,
        first_broken_seq=check.broken_at_seq,
        problem=check.problem,
    )


def audit_csv(export: AuditExport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["seq", "at", "actor", "action", "from_status", "to_status", "detail"])
    for e in export.events:
        row = [e.seq, e.at.isoformat(), e.actor, e.action, e.from_status or "", e.to_status or "", e.detail or ""]
        writer.writerow([_no_formula(str(cell)) for cell in row])
    return buffer.getvalue()


def _no_formula(cell: str) -> str:
    # Auditors open exports in spreadsheets: a rationale starting with "=" must not run as a formula.
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


# --- Actions: each an update of the workflow, acting as the token's subject. ----------------------------


async def _act(services: Services, referral_id: str, action: ActionName, payload: ActionPayload) -> StatusView:
    return await (await services.reviews()).act(referral_id, action, payload)


@router.post("/{referral_id}/approve", summary="Approve a referral for review (Chair)", responses=ACTION_ERRORS)
async def approve(
    referral_id: RefPath, person: Actor, services: ServicesDep, body: ApproveRequest | None = None
) -> StatusView:
    rationale = body.rationale if body else None
    return await _act(services, referral_id, ActionName.APPROVE, Decision(actor=person.id, rationale=rationale))


@router.post("/{referral_id}/decline", summary="Decline a referral, with a rationale (Chair)", responses=ACTION_ERRORS)
async def decline(referral_id: RefPath, body: DeclineRequest, person: Actor, services: ServicesDep) -> StatusView:
    return await _act(services, referral_id, ActionName.DECLINE, Decision(actor=person.id, rationale=body.rationale))


@router.post("/{referral_id}/assign-reviewer", summary="Assign a peer reviewer", responses=ACTION_ERRORS)
async def assign_reviewer(
    referral_id: RefPath, body: AssignReviewerRequest, person: Actor, services: ServicesDep
) -> StatusView:
    payload = ReviewerAssignment(actor=person.id, reviewer=body.reviewer)
    return await _act(services, referral_id, ActionName.ASSIGN_REVIEWER, payload)


@router.post("/{referral_id}/submit-findings", summary="Submit findings (assigned reviewer)", responses=ACTION_ERRORS)
async def submit_findings(
    referral_id: RefPath,
    body: Annotated[Findings, Body(examples=[FINDINGS_EXAMPLE])],
    person: Actor,
    services: ServicesDep,
) -> StatusView:
    payload = FindingsSubmission(actor=person.id, findings=body)
    return await _act(services, referral_id, ActionName.SUBMIT_FINDINGS, payload)


@router.post("/{referral_id}/clear", summary="Legal clearance of contentious findings", responses=ACTION_ERRORS)
async def clear(
    referral_id: RefPath, person: Actor, services: ServicesDep, body: NoteRequest | None = None
) -> StatusView:
    rationale = body.rationale if body else None
    return await _act(services, referral_id, ActionName.CLEAR, Decision(actor=person.id, rationale=rationale))


@router.post("/{referral_id}/sign-off", summary="Sign off and close the review (Chair)", responses=ACTION_ERRORS)
async def sign_off(
    referral_id: RefPath, person: Actor, services: ServicesDep, body: NoteRequest | None = None
) -> StatusView:
    rationale = body.rationale if body else None
    return await _act(services, referral_id, ActionName.SIGN_OFF, Decision(actor=person.id, rationale=rationale))


@router.post("/{referral_id}/return-for-rework", summary="Return findings to the reviewer", responses=ACTION_ERRORS)
async def return_for_rework(
    referral_id: RefPath, body: ReasonRequest, person: Actor, services: ServicesDep
) -> StatusView:
    return await _act(services, referral_id, ActionName.RETURN_FOR_REWORK, Rework(actor=person.id, reason=body.reason))


@router.post("/{referral_id}/withdraw", summary="Withdraw before findings", responses=ACTION_ERRORS)
async def withdraw(referral_id: RefPath, body: ReasonRequest, person: Actor, services: ServicesDep) -> StatusView:
    return await _act(services, referral_id, ActionName.WITHDRAW, Withdrawal(actor=person.id, reason=body.reason))
