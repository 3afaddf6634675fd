"""Reports over every review, for those the read rule lets read them (peer_review.domain.lifecycle.may_read_reports):
`GET /reports` (JSON, CSV or an HTML document), the reports page and the panel pack. Every read is in the access
log."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from peer_review.domain.lifecycle import may_read_reports
from peer_review.records.reports import GroupBy, Report, panel_recommendations, report
from peer_review.temporal.client import InvalidInput
from peer_review.web.deps import Person, Reader, ServicesDep
from peer_review.web.errors import Forbidden, error_responses
from peer_review.web.pages_common import PagePerson
from peer_review.web.reads import log_read
from peer_review.web.render import render
from peer_review.web.report_view import plots, report_csv, report_document
from peer_review.web.services import Services

router = APIRouter(tags=["reports"])
# The longest period one report covers: enough for a year's trends, bounded so one request stays cheap.
MAX_DAYS = 3 * 366


async def read_report(services: Services, person: Person, start: date, end: date, by: GroupBy) -> Report:
    allowed = may_read_reports(person.reader)
    await log_read(services, person, "report", None, allowed)
    if not allowed:
        raise Forbidden(f"{person.id} may not read reports: they are for national leads, auditors and the Focal Point")
    if end < start:
        raise InvalidInput("to: the period ends before it starts")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"to: a report covers at most {MAX_DAYS} days")
    async with services.records() as store:
        return await report(store, start, end, by)


@router.get(
    "/reports",
    summary="Reports for a period, from the records database",
    response_model=Report,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}},
            "description": "JSON, or CSV / an HTML document with format=csv / format=html",
        },
        **error_responses(401, 403, 422, 503),
    },
)
async def reports(
    person: Reader,
    services: ServicesDep,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    by: GroupBy = GroupBy.MONTH,
    export_format: Annotated[Literal["json", "csv", "html"], Query(alias="format")] = "json",
) -> Report | Response:
    found = await read_report(services, person, start, end, by)
    if export_format == "csv":
        return Response(report_csv(found), media_type="text/csv; charset=utf-8")
    if export_format == "html":
        return HTMLResponse(report_document(found))
    return found


# --- Pages. ------------------------------------------------------------------------------------------------------

pages = APIRouter(prefix="/report", include_in_schema=False)


def _period(start: str, end: str) -> tuple[date, date, list[tuple[str, str]]]:
    """The page's period, read leniently (default: the last 90 days); a bad date is named on the page."""
    problems: list[tuple[str, str]] = []
    today = date.today()

    def parse(name: str, value: str, default: date) -> date:
        try:
            return date.fromisoformat(value) if value else default
        except ValueError:
            problems.append((name, f"{name}: enter a date as YYYY-MM-DD"))
            return default

    return parse("from", start, today - timedelta(days=90)), parse("to", end, today), problems


@pages.get("", response_class=HTMLResponse)
async def report_page(
    request: Request,
    person: PagePerson,
    services: ServicesDep,
    start: Annotated[str, Query(alias="from", max_length=10)] = "",
    end: Annotated[str, Query(alias="to", max_length=10)] = "",
    by: GroupBy = GroupBy.MONTH,
) -> HTMLResponse:
    since, until, problems = _period(start, end)
    found = None if problems else await read_report(services, person, since, until, by)
    values = {"from": since.isoformat(), "to": until.isoformat(), "by": by.value}
    drawn = plots(found) if found is not None else {}
    return render(
        request,
        "report.html",
        person,
        422 if problems else 200,
        report=found,
        plots=drawn,
        problems=problems,
        values=values,
        groupings=list(GroupBy),
    )


@pages.get("/panel-pack", response_class=HTMLResponse)
async def panel_pack(
    person: PagePerson,
    services: ServicesDep,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
) -> HTMLResponse:
    """One redacted HTML document for the national panel: figures, and the recommendations' own words."""
    found = await read_report(services, person, start, end, GroupBy.MONTH)
    async with services.records() as store:
        items = await panel_recommendations(store, start, end)
    name = f"panel-pack-{start.isoformat()}-{end.isoformat()}.html"
    return HTMLResponse(
        report_document(found, panel=items), headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
