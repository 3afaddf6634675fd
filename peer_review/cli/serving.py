"""More `peer-review` commands: `api` (the HTTP API and pages) and `refer-bulk` (many referrals from a file).

starter.py adds them with `register(app)`, so the command line stays one program.
"""

from __future__ import annotations

import asyncio
import sys
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from peer_review.cli import bulk_import as bulk
from peer_review.cli.common import JsonFlag, emit_json, err, fail, out
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
    app.command("api")(api)
    app.command("refer-bulk")(refer_bulk)


def api(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: PEER_REVIEW_API_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: PEER_REVIEW_API_PORT or 8000].")] = None,
) -> None:
    """Serve the HTTP API (/referrals, OpenAPI at /openapi.json) and the pages, until Ctrl-C or SIGTERM."""
    # Imported here, not at the top: every other command (say, `list`) would pay for them at start-up.
    from peer_review.foreground import run_until_signalled
    from peer_review.logs import configure_logging
    from peer_review.web.app import ApiSettings, serve

    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    try:
        api_settings = ApiSettings()
    except ValidationError as error:
        fail(ReviewError("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())))
    changes = {key: value for key, value in (("api_host", host), ("api_port", port)) if value is not None}
    api_settings = api_settings.model_copy(update=changes)
    err.print(f"Peer Review API on http://{api_settings.api_host}:{api_settings.api_port}/", highlight=False)
    # The same signal handling as the worker: SIGTERM lets requests in flight finish, then exits 0.
    run_until_signalled(partial(serve, settings, api=api_settings))


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
