"""One mapping from the client's outcomes to HTTP statuses, shared by the JSON API and the pages.

422 invalid input (naming the field), 403 not permitted for this person, 409 not allowed in this status,
404 unknown referral, 503 Temporal or the records database unreachable, 401 no usable credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from peer_review.domain.lifecycle import RejectionKind
from peer_review.temporal.client import ActionRejected, InvalidInput, ReferralNotFound, ReviewError, ServiceUnavailable


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """Every error answer of the API."""

    detail: str
    kind: str
    field: str | None = None
    errors: list[FieldProblem] = []


class Forbidden(Exception):
    """The person is known but may not use this route (for example, not in the staff directory)."""


_STATUS = {
    RejectionKind.NOT_PERMITTED: 403,
    RejectionKind.INVALID_STATE: 409,
    RejectionKind.INVALID_INPUT: 422,
}


def status_of(error: ReviewError) -> tuple[int, str]:
    """The HTTP status and problem kind of a client error."""
    if isinstance(error, ActionRejected):
        return _STATUS[error.kind], error.kind.value
    if isinstance(error, InvalidInput):
        return 422, RejectionKind.INVALID_INPUT.value
    if isinstance(error, ReferralNotFound):
        return 404, "NotFound"
    if isinstance(error, ServiceUnavailable):
        return 503, "ServiceUnavailable"
    return 500, "Error"


def field_of(message: str) -> str | None:
    """The field a message names: the service's messages read `field: what is wrong`."""
    head, sep, _ = message.partition(":")
    return head if sep and head and " " not in head else None


def problem_for(error: ReviewError) -> tuple[int, Problem]:
    status, kind = status_of(error)
    message = str(error)
    field = field_of(message) if status == 422 else None
    return status, Problem(detail=message, kind=kind, field=field)


def validation_problem(errors: Sequence[Any]) -> Problem:
    """A 422 for request validation: one line per field, with `body.`/`query.`/`path.` dropped from names."""
    problems = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        where = location[0] if location and location[0] in ("body", "query", "path", "header", "cookie") else ""
        field = ".".join(location[1:] if where else location)
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        named = field_of(message)
        if named and (not field or named not in field.split(".")):
            # A model-level rule names its own field ("other_reason: required when ...").
            field = f"{field}.{named}" if field else named
            message = message.split(":", 1)[1].strip()
        problems.append(FieldProblem(field=field or where or "(request)", message=message))
    detail = "; ".join(f"{p.field}: {p.message}" for p in problems) or "invalid request"
    return Problem(detail=detail, kind="InvalidInput", field=problems[0].field if problems else None, errors=problems)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries so the document lists every error a route can give, with its shape."""
    described = {
        401: "No valid bearer token",
        403: "Not permitted for this person",
        404: "No such referral",
        409: "Not allowed in the review's current status",
        422: "Invalid input; `field` names the field",
        503: "Temporal or the records database is unreachable",
    }
    return {status: {"model": Problem, "description": described[status]} for status in statuses}
