"""The JSON API of tracked recommendations: the register, one recommendation, and one route per row of the action
table (peer_review.domain.recommendations), each an update of the recommendation's workflow acting as the token's
subject. Reads are scoped by peer_review.domain.lifecycle.recommendation_scope and written to the access log.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, create_model

from peer_review.domain.models import (
    IDENTIFIER,
    RECOMMENDATION_ID,
    Contract,
    Identifier,
    LongText,
    RecommendationAct,
    RecommendationLevel,
    RecommendationStatus,
    RecommendationView,
    RegisterEntry,
)
from peer_review.domain.recommendations import STEPS, Needs, Step
from peer_review.records import read_model
from peer_review.web.deps import Person, Reader, ServicesDep
from peer_review.web.errors import error_responses
from peer_review.web.reads import check_recommendation_read, log_read, recommendations_readable_by
from peer_review.web.routes.referrals import add_action_route, id_in_path, keyword, no_formula
from peer_review.web.services import Services

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

RecPath = Annotated[
    str,
    id_in_path(
        "The recommendation id: the referral id, -R and its place in the findings, e.g. PR-2026-0001-R1.",
        72,
        RECOMMENDATION_ID.pattern,
        "PR-2026-0001-R1",
    ),
]
IdQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=rf"^{IDENTIFIER.pattern}$")]


@router.get(
    "",
    summary="The recommendations register you may read, overdue first",
    response_model=list[RegisterEntry],
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV with format=csv"},
        **error_responses(401, 403, 422, 503),
    },
)
async def register(
    person: Reader,
    services: ServicesDep,
    level: RecommendationLevel | None = None,
    status: RecommendationStatus | None = None,
    owner: IdQuery = None,
    osn: IdQuery = None,
    theme: IdQuery = None,
    overdue: bool = False,
    export_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> list[RegisterEntry] | Response:
    """Owners read theirs, a Chair their OSN's, national leads, auditors and the Focal Point all of them; and
    everyone the recommendations of the reviews they may read."""
    selection = read_model.RegisterFilter(
        level=level, status=status, owner=owner, osn=osn, theme=theme, overdue=overdue
    )
    entries = await read_register(services, person, selection)
    if export_format == "csv":
        return Response(
            register_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="recommendations.csv"'},
        )
    return entries


async def read_register(
    services: Services, person: Person, selection: read_model.RegisterFilter
) -> list[RegisterEntry]:
    scope = recommendations_readable_by(services, person)
    await log_read(services, person, "recommendations", None, allowed=True)
    async with services.records() as store:
        return await read_model.recommendation_register(store, scope=scope, selection=selection)


def register_csv(entries: list[RegisterEntry]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    fields = list(RegisterEntry.model_fields)
    writer.writerow(fields)
    for entry in entries:
        values = entry.model_dump(mode="json")
        writer.writerow([no_formula("" if values[name] is None else str(values[name])) for name in fields])
    return buffer.getvalue()


@router.get(
    "/{rec_id}",
    summary="Where one tracked recommendation stands",
    responses=error_responses(401, 403, 404, 422, 503),
)
async def recommendation(rec_id: RecPath, person: Reader, services: ServicesDep) -> RecommendationView:
    view = await (await services.reviews()).recommendation(rec_id)
    await check_recommendation_read(services, person, view)
    return view


# --- Actions: one route per row of the action table. ----------------------------------------------------------

# What each required field takes: free text, or a staff or team id from the directory.
NEEDS_TYPE: dict[Needs, Any] = {
    Needs.RATIONALE: LongText,
    Needs.EVIDENCE: LongText,
    Needs.REASON: LongText,
    Needs.OWNER: Identifier,
}


def request_body(step: Step) -> type[BaseModel] | None:
    """The step's body: the one field it requires (none for accept, start, verify); never the actor."""
    if step.needs is Needs.NOTHING:
        return None
    name = f"{step.action.value.title()}RecommendationRequest"
    fields: dict[str, Any] = {step.needs.value: (NEEDS_TYPE[step.needs], ...)}
    return create_model(name, __base__=Contract, __doc__=step.summary, **fields)


def add_step_route(step: Step) -> None:
    """The route of one step; FastAPI reads the body's type from the endpoint's signature."""
    body_type = request_body(step)

    async def endpoint(
        rec_id: str, person: Person, services: Services, idempotency_key: str | None, body: BaseModel | None = None
    ) -> RecommendationView:
        fields = body.model_dump() if body is not None else {}
        request = RecommendationAct.model_validate({"actor": person.id, **fields})
        reviews = await services.reviews_for(person.credentials)
        return await reviews.act_on_recommendation(rec_id, step.action, request, request_id=idempotency_key)

    body = keyword("body", Annotated[body_type, Body()]) if body_type is not None else None
    add_action_route(
        router,
        endpoint,
        keyword("rec_id", RecPath),
        body,
        command=step.command,
        name=f"recommendation_{step.command}",
        summary=step.summary,
        returns=RecommendationView,
    )


for _step in STEPS:
    add_step_route(_step)
