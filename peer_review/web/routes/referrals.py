"""The JSON API: start a review, act on it, read its status, its audit record, related reviews, its local
feedback and lists of reviews.

Action bodies carry no `actor`: the acting person is the token's subject (peer_review.web.deps), and the
payload models of peer_review.domain.models are built here with it. Errors are raised as the client's exceptions
and turned into statuses in one place (peer_review.web.app).
"""

from __future__ import annotations

import csv
import inspect
import io
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, create_model

from peer_review.domain.actions import ACTIONS, Action, Input
from peer_review.domain.as_of import AsOfView, parse_moment
from peer_review.domain.lifecycle import Parties
from peer_review.domain.models import (
    IDENTIFIER,
    AuditEvent,
    ChairDecision,
    Contract,
    Findings,
    LongText,
    Reason,
    Referral,
    RelatedReview,
    Role,
    Status,
    StatusView,
)
from peer_review.records import read_model
from peer_review.records.feedback import FeedbackRefused, LocalFeedback, local_feedback
from peer_review.temporal.client import (
    ActionRejected,
    InvalidInput,
    ListedReview,
    ListFilter,
    ReferralNotFound,
    ReferResult,
)
from peer_review.web.deps import Actor, Person, Reader, ServicesDep
from peer_review.web.errors import Forbidden, error_responses
from peer_review.web.examples import ACTION_EXAMPLES, FINDINGS_EXAMPLE, REFERRAL_EXAMPLE
from peer_review.web.reads import check_read, check_recorded_read, log_read, scope_of
from peer_review.web.services import RecordsUnavailable, Services

if TYPE_CHECKING:
    from peer_review.records.store import RecordsStore

router = APIRouter(prefix="/referrals", tags=["referrals"])


def id_in_path(description: str, max_length: int, pattern: str, example: str) -> Any:
    """The id a route acts on or reads, as the last-but-one or last part of its path."""
    return Path(description=description, min_length=1, max_length=max_length, pattern=pattern, examples=[example])


RefPath = Annotated[
    str, id_in_path("The referral id, e.g. PR-2026-0001.", 64, rf"^{IDENTIFIER.pattern}$", "PR-2026-0001")
]
ACTION_ERRORS = error_responses(401, 403, 404, 409, 422, 503)
# A retry of a request with the same key (and the same body) is the same action: it returns the first result.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique text (a UUID, say). Sending the request again with the same key and body returns "
        "the first result instead of acting twice.",
    ),
]


def keyword(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    """One keyword-only parameter of an endpoint made from a table; FastAPI reads its input from the annotation."""
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


def add_action_route(
    router: APIRouter,
    endpoint: Callable[..., Awaitable[BaseModel]],
    path: inspect.Parameter,
    body: inspect.Parameter | None,
    *,
    command: str,
    name: str,
    summary: str,
    returns: type[BaseModel],
) -> None:
    """Add the POST route `/{id}/{command}` of one row of an action table (a review's or a recommendation's).

    The endpoint is made from the row, so FastAPI reads its inputs from the signature set here: the id in the path,
    the acting person, the services, the body (None: the action takes none) and the optional Idempotency-Key header.
    """
    parameters = [path, keyword("person", Actor), keyword("services", ServicesDep)]
    if body is not None:
        parameters.append(body)
    parameters.append(keyword("idempotency_key", IdempotencyKey, None))
    endpoint.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    router.add_api_route(
        f"/{{{path.name}}}/{command}",
        endpoint,
        methods=["POST"],
        name=name,
        summary=summary.rstrip("."),
        response_model=returns,
        responses=ACTION_ERRORS,
    )


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
    """Answers as soon as the workflow has started; triage runs after. `referred_by` must be the caller, unless the
    caller is an integration (role `integration`), which refers on behalf of the referrer it names."""
    integration = person.id if person.has(Role.INTEGRATION) and referral.referred_by != person.id else None
    if referral.referred_by != person.id and integration is None:
        raise Forbidden(f"referred_by: you are signed in as {person.id}; a referral is made in your own name")
    reviews = await services.reviews_for(person.credentials)
    result = await reviews.refer(referral, integration=integration)
    # Other reviews of the same case or customer are reported, never a refusal; null if the records are down.
    result.related = await _related_or_none(
        services,
        lambda store: read_model.related_reviews(
            store,
            case_reference=referral.case_reference,
            customer_reference=referral.customer.reference,
            excluding=referral.referral_id,
        ),
    )
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
    held: Annotated[
        bool,
        Query(description="Only reviews under a legal hold: listed from the records database, closed ones too."),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ListedReview]:
    """Reviews found by Temporal's visibility store (search attributes), newest first: only those the caller may
    read (all for auditors and the Focal Point; a Chair's OSN; the reviews assigned to or referred by them).
    With `held=true`, the held reviews from the records database (whose Temporal history may be gone)."""
    scope, readable = await scope_of(services, person)
    await log_read(services, person, "list", None, allowed=True)
    if held:
        criteria = read_model.Search(status=status, osn=osn, reason=reason, overdue=overdue)
        async with services.records() as store:
            rows = await read_model.held_reviews(store, criteria, scope)
        return [_listed(row) for row in rows[:limit]]
    selection = ListFilter(status=status, osn=osn, reason=reason, overdue=overdue, scope=scope, readable_ids=readable)
    return await (await services.reviews()).list(selection, limit=limit)


def _listed(row: read_model.ReviewRow) -> ListedReview:
    return ListedReview(
        referral_id=row.referral_id,
        status=row.status.value,
        osn=row.osn,
        reasons=row.reasons,
        mandatory=row.mandatory,
        overdue=row.overdue,
        due_at=None,
        started_at=row.created_at,
        running=row.status is not Status.CLOSED,
    )


AsOf = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=40,
        description="Rebuild the review as it stood at this moment (ISO 8601; UTC unless it names a zone; a date "
        "alone is the end of that day) from the records database alone: it works after Temporal has deleted the "
        "review's history.",
        examples=["2026-03-01T17:00:00Z"],
    ),
]


@router.get(
    "/{referral_id}",
    summary="Where a review stands (or, with as_of, where it stood then)",
    response_model=StatusView | AsOfView,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def review_status(
    referral_id: RefPath, person: Reader, services: ServicesDep, as_of: AsOf = None
) -> StatusView | AsOfView:
    if as_of is not None:
        return await status_as_of(services, person, referral_id, checked_moment("as_of", as_of))
    async with services.records() as store:
        recorded = await read_model.recorded_view(store, referral_id)
    view = await (await services.reviews()).current_status(referral_id, recorded)
    await check_read(services, person, "status", referral_id, Parties.of(view))
    return view


def checked_moment(field: str, value: str) -> datetime:
    try:
        return parse_moment(value)
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not an ISO 8601 date or date and time") from None


async def status_as_of(services: Services, person: Person, referral_id: str, moment: datetime) -> AsOfView:
    """The review as it stood at `moment`, from the record; 404 if it had not been referred by then."""
    await check_recorded_read(services, person, "status-as-of", referral_id)
    async with services.records() as store:
        view = await read_model.as_it_stood_on(store, referral_id, moment)
    if view is None:
        raise ReferralNotFound(f"review {referral_id} had not been referred by {moment.isoformat()}")
    return view


async def _related_or_none(
    services: Services, query: Callable[[RecordsStore], Awaitable[list[RelatedReview]]]
) -> list[RelatedReview] | None:
    try:
        async with services.records() as store:
            return await query(store)
    except RecordsUnavailable:
        return None


@router.get(
    "/{referral_id}/related",
    summary="Other reviews of the same case or customer (ids, dates and outcomes only)",
    responses=error_responses(401, 403, 404, 422, 503),
)
async def related_reviews(referral_id: RefPath, person: Reader, services: ServicesDep) -> list[RelatedReview]:
    await check_recorded_read(services, person, "related", referral_id)
    async with services.records() as store:
        related = await read_model.related_to(store, referral_id)
    if related is None:
        raise ReferralNotFound(f"no records for referral {referral_id}")
    return related


@router.get(
    "/{referral_id}/feedback",
    summary="A closed review's outcome and local recommendations (its referrer and the site's contacts)",
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def review_feedback(referral_id: RefPath, person: Reader, services: ServicesDep) -> LocalFeedback:
    return await read_feedback(services, referral_id, person)


async def read_feedback(services: Services, referral_id: str, person: Person) -> LocalFeedback:
    async with services.records() as store:
        record = await read_model.review_record(store, referral_id)
    if record is None:
        raise ReferralNotFound(f"no records for referral {referral_id}")
    try:
        found = local_feedback(record, services.directory(), person.staff)
    except FeedbackRefused as refused:
        await log_read(services, person, "feedback", referral_id, allowed=False)
        raise ActionRejected(str(refused), refused.kind) from None
    await log_read(services, person, "feedback", referral_id, allowed=True)
    return found


class DecisionRequest(Contract):
    """The Chair's decision, sent as the `chair_decision` signal."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "approve", "rationale": "Several issues to check"}]}
    )

    decision: Literal["approve", "decline"]
    rationale: LongText | None = None


class DecisionSent(BaseModel):
    referral_id: str
    decision: Literal["approve", "decline"]
    sent: bool
    detail: str


@router.post(
    "/{referral_id}/decision",
    status_code=202,
    summary="The Chair's decision by signal: 202 once accepted; the review applies it after the usual checks",
    responses={202: {"description": "The signal was accepted"}, **ACTION_ERRORS},
)
async def decide(
    referral_id: RefPath, body: DecisionRequest, person: Actor, services: ServicesDep, response: Response
) -> DecisionSent:
    """Fire and forget, for integrations: answers as soon as Temporal has accepted the signal. The review runs
    the same checks as approve/decline; a refused decision is kept in the audit record, and
    `GET /referrals/{id}` shows whether it was applied."""
    if body.decision == "decline" and not body.rationale:
        raise InvalidInput("rationale: a decline needs a rationale")
    decision = ChairDecision(actor=person.id, decision=body.decision, rationale=body.rationale)
    await (await services.reviews_for(person.credentials)).signal_chair_decision(referral_id, decision)
    response.headers["Location"] = f"/referrals/{referral_id}"
    return DecisionSent(
        referral_id=referral_id,
        decision=body.decision,
        sent=True,
        detail="decision sent; the review applies it after the same checks as approve/decline",
    )


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
    await check_recorded_read(services, person, "audit", referral_id)
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
    check = record.verify(services.chain_keys())
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
        writer.writerow([no_formula(str(cell)) for cell in row])
    return buffer.getvalue()


def no_formula(cell: str) -> str:
    # Auditors open exports in spreadsheets: a rationale starting with "=" must not run as a formula.
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


# --- Actions: one route per row of the action table, each an update acting as the token's subject. --------


def _request_body(action: Action) -> type[BaseModel]:
    """The action's payload without `actor`: who acts is the token's subject, never the body."""
    fields: dict[str, Any] = {
        name: (info.annotation, info) for name, info in action.payload.model_fields.items() if name != "actor"
    }
    if action.note is not None and action.note.required:
        fields[action.note.field] = (LongText, ...)  # a decline's rationale is optional in Decision, not here
    example = ACTION_EXAMPLES.get(action.name)
    config = {**Contract.model_config, "json_schema_extra": {"examples": [example]} if example else None}
    base = type("Body", (Contract,), {"model_config": config})
    name = action.name.value.title().replace("_", "") + "Request"
    return create_model(name, __base__=base, __doc__=action.summary, **fields)


def _add_route(action: Action) -> None:
    """The route of one action; FastAPI reads the body's type from the endpoint's signature."""
    if action.needs is Input.FINDINGS:
        body_type: Any = Annotated[Findings, Body(examples=[FINDINGS_EXAMPLE])]
        optional = False
    else:
        body_type = _request_body(action)
        optional = not any(info.is_required() for info in body_type.model_fields.values())

    async def endpoint(
        referral_id: str, person: Person, services: Services, body: Any, idempotency_key: str | None
    ) -> StatusView:
        fields = {"findings": body} if action.needs is Input.FINDINGS else (body.model_dump() if body else {})
        payload = action.payload.model_validate({"actor": person.id, **fields})
        reviews = await services.reviews_for(person.credentials)
        return await reviews.act(referral_id, action.name, payload, request_id=idempotency_key)

    body = keyword("body", body_type | None, None) if optional else keyword("body", body_type)
    add_action_route(
        router,
        endpoint,
        keyword("referral_id", RefPath),
        body,
        command=action.path,
        name=action.name.value,
        summary=action.summary,
        returns=StatusView,
    )


for _action in ACTIONS:
    _add_route(_action)
