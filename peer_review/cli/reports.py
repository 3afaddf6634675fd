"""`peer-review report`: the reports over every review for a period, from the records database, for those the read
rule lets read them (peer_review.domain.lifecycle.may_read_reports); every read in the access log."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel
from rich.table import Table

from peer_review.cli.common import Reader, emit_json, fail, out
from peer_review.cli.reading import log_read, read_records, reader
from peer_review.domain.lifecycle import RejectionKind, may_read_reports
from peer_review.temporal.client import ActionRejected, InvalidInput

if TYPE_CHECKING:
    from peer_review.records.reports import Report


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    actor: Reader,
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included (YYYY-MM-DD).")],
    by: Annotated[
        str, typer.Option(help="Group reviews by month, reason, osn or outcome; stage or theme: only that table.")
    ] = "month",
    output: Annotated[str, typer.Option("--format", help="table, json, csv or html (a whole document).")] = "table",
) -> None:
    """Reviews referred and closed, time in each status, stages not followed, recommendations and themes for a
    period (national leads, auditors and the Focal Point)."""
    from peer_review.records.reports import GroupBy
    from peer_review.records.reports import report as build

    if by not in GroupBy.__members__.values():
        fail(InvalidInput(f"--by: one of {', '.join(GroupBy)}, not {by!r}"))
    if output not in ("table", "json", "csv", "html"):
        fail(InvalidInput(f"--format: one of table, json, csv, html, not {output!r}"))
    if end < start:
        fail(InvalidInput("--to: the period ends before it starts"))
    allowed = may_read_reports(reader(actor))
    log_read(actor, "report", None, allowed=allowed)
    if not allowed:
        message = f"{actor} may not read reports: they are for national leads, auditors and the Focal Point"
        fail(ActionRejected(message, RejectionKind.NOT_PERMITTED))
    found = read_records(lambda store: build(store, start.date(), end.date(), GroupBy(by)))
    if output == "json":
        emit_json(found.model_dump(mode="json"))
    elif output in ("csv", "html"):
        from peer_review.web.report_view import report_csv, report_document

        sys.stdout.write(report_csv(found) if output == "csv" else report_document(found))
    else:
        tables(found)


def tables(found: Report) -> None:
    sections: dict[str, Sequence[BaseModel]] = {
        f"Reviews by {found.by.value}": found.reviews,
        "Time in each status (days)": found.time_in_status,
        "Stages not followed": found.stages_not_followed,
        "Recommendations by status": found.recommendations,
        "Themes over time": found.themes,
    }
    out.print(f"Report {found.start} to {found.end}")
    for title, rows in sections.items():
        if not rows:
            continue
        table = Table(title=title, title_justify="left")
        columns = list(type(rows[0]).model_fields)
        for column in columns:
            table.add_column(column.replace("_", " "))
        for row in rows:
            table.add_row(*(str(getattr(row, column)) for column in columns))
        out.print(table)
    if found.median_days_to_implementation is not None:
        out.print(f"Median time to implementation: {found.median_days_to_implementation} days")
