"""Starting reviews: `refer` (one referral from a JSON file) and `refer-bulk` (many, from JSON Lines or CSV)."""

from __future__ import annotations

import asyncio
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from peer_review.cli import bulk_import as bulk
from peer_review.cli.common import JsonFlag, SourceFile, emit_json, err, fail, load, out, run, show_related
from peer_review.cli.reading import read_records_or_none
from peer_review.domain.models import Referral
from peer_review.settings import Settings
from peer_review.temporal.client import InvalidInput, PeerReviewClient, ReviewError

BulkFile = Annotated[
    str, typer.Argument(help="A JSON Lines (.jsonl) or CSV (.csv) file, or - for standard input.", show_default=False)
]


class FileFormat(StrEnum):
    AUTO = "auto"
    JSONL = "jsonl"
    CSV = "csv"


def register(app: typer.Typer) -> None:
    app.command("refer")(refer)
    app.command("refer-bulk")(refer_bulk)


def refer(source: SourceFile, as_json: JsonFlag = False) -> None:
    """Start a review from a Referral JSON file (a repeat returns the existing review)."""
    from peer_review.records.read_model import related_reviews  # SQLAlchemy: only when needed

    referral = load(Referral, source)
    result = run(lambda reviews: reviews.refer(referral))
    # Never a refusal: other reviews of the same case or customer are reported for whoever reads on.
    result.related = read_records_or_none(
        lambda store: related_reviews(
            store,
            case_reference=referral.case_reference,
            customer_reference=referral.customer.reference,
            excluding=referral.referral_id,
        ),
        "related reviews",
    )
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    if result.already_started:
        out.print(f"Review {result.referral_id} already exists ({result.status.value}); nothing new was started.")
    else:
        out.print(f"[green]Started review {result.referral_id}[/] (workflow {result.workflow_id}).")
    show_related(result.related)


def refer_bulk(
    source: BulkFile,
    fmt: Annotated[
        FileFormat, typer.Option("--format", help="auto: by the file's extension, else its content.")
    ] = FileFormat.AUTO,
    as_json: JsonFlag = False,
) -> None:
    """Start a review for each referral in a JSON Lines or CSV file; invalid lines never stop the valid ones.

    CSV: a column per Referral field; lists split on |; customer_reference, customer_additional_needs.

    Exit 0 when all were started (or existed already), 2 when any line was invalid, 1 when unreachable.
    """
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(InvalidInput(f"{source}: {getattr(error, 'strerror', None) or error}"))
    lines = bulk.parse(text, bulk.detect_format(source, text) if fmt is FileFormat.AUTO else fmt.value)
    summary = asyncio.run(_start_all(lines))
    if as_json:
        emit_json(summary.as_json())
    else:
        _show(summary)
    raise typer.Exit(summary.exit_code)


async def _start_all(lines: list[bulk.ParsedLine]) -> bulk.BulkSummary:
    if not any(item.referral for item in lines):
        return bulk.BulkSummary(
            [bulk.LineResult(i.line, i.referral_id, bulk.LineOutcome.INVALID, reason=i.problem) for i in lines]
        )
    try:
        reviews = await PeerReviewClient.connect(Settings())
    except ReviewError as error:
        return bulk.not_started(lines, error)
    columns = (TextColumn("Referring"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # On stderr, so `--json` output on stdout stays clean; transient, so the summary is what remains.
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("refer", total=len(lines))
        return await bulk.refer_all(reviews, lines, lambda _: progress.advance(task))


def _show(summary: bulk.BulkSummary) -> None:
    totals = Table(title="Bulk referral", title_justify="left")
    totals.add_column("Outcome")
    totals.add_column("Lines", justify="right")
    labels = {
        bulk.LineOutcome.STARTED: "[green]started[/]",
        bulk.LineOutcome.ALREADY_STARTED: "already started",
        bulk.LineOutcome.INVALID: "[red]invalid[/]",
        bulk.LineOutcome.NOT_STARTED: "[red]not started (service unavailable)[/]",
    }
    for outcome, label in labels.items():
        if outcome is not bulk.LineOutcome.NOT_STARTED or summary.count(outcome):
            totals.add_row(label, str(summary.count(outcome)))
    out.print(totals)
    problems = [r for r in summary.results if r.outcome in (bulk.LineOutcome.INVALID, bulk.LineOutcome.NOT_STARTED)]
    if problems:
        table = Table(title="Lines not started", title_justify="left")
        for column in ("Line", "Referral", "Why"):
            table.add_column(column, overflow="fold")
        for result in problems:
            table.add_row(str(result.line), result.referral_id or "-", result.reason or "")
        out.print(table)
