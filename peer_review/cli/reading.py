"""Reading commands: `status`, `audit`, `export`, `recommendations`, `history` and `list`.

`status`, `history` and `list` ask Temporal; `audit`, `export` and `recommendations` read the records
database, the long-term system of record.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from peer_review.cli.common import (
    Actor,
    JsonFlag,
    Ref,
    checked_ref,
    emit_json,
    err,
    fail,
    out,
    printable,
    run,
    show_status,
)
from peer_review.domain.lifecycle import FULL_RECORD_READERS, RejectionKind, may_read_full_record
from peer_review.domain.models import Reason, RecommendationLevel, Status
from peer_review.domain.staff_directory import DirectoryError, load_directory
from peer_review.records import export as exports
from peer_review.settings import Settings
from peer_review.temporal.client import (
    ActionRejected,
    ListedReview,
    ListFilter,
    PeerReviewClient,
    ReferralNotFound,
    ReviewError,
)

if TYPE_CHECKING:
    from peer_review.records.store import RecordsStore

T = TypeVar("T")
TABLE_ROWS = 100


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("audit")(audit)
    app.command("export")(export)
    app.command("recommendations")(recommendations)
    app.command("history")(history)
    app.command("list")(list_reviews)


def status(ref: Ref, as_json: JsonFlag = False) -> None:
    """Show where a review stands."""
    view = run(lambda reviews: reviews.status(checked_ref(ref)))
    if as_json:
        emit_json(view.model_dump(mode="json"))
    else:
        show_status(view)


def audit(
    ref: Ref,
    verify: Annotated[bool, typer.Option("--verify", help="Recompute the hash chain; exit 1 if broken.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The audit trail from the records database (the system of record)."""
    checked_ref(ref)
    record = read_records(lambda store: store.audit_record(ref))
    if record is None:
        fail(ReferralNotFound(f"no records for referral {ref}"))
    check = record.verify()
    if as_json:
        emit_json(
            {
                "referral_id": ref,
                "events": [row.event.model_dump(mode="json") for row in record.events],
                "chain_valid": check.valid,
                **({"first_broken_seq": check.broken_at_seq, "problem": check.problem} if not check.valid else {}),
            }
        )
    else:
        table = Table(title=f"Audit trail of {ref}", title_justify="left")
        for column in ("#", "At (UTC)", "Actor", "Action", "From → to", "Detail"):
            table.add_column(column, overflow="fold")
        for row in record.events:
            e = row.event
            moved = f"{e.from_status or ''} → {e.to_status or ''}" if e.to_status else ""
            # Detail holds what people wrote (rationales, reasons): shown as plain text, never as markup.
            detail = Text(printable(e.detail or ""))
            table.add_row(str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action, moved, detail)
        out.print(table)
        if check.valid:
            out.print(f"[green]Hash chain valid[/] over {len(record.events)} events.")
        else:
            out.print(f"[bold red]Hash chain BROKEN[/] at event {check.broken_at_seq}: {check.problem}")
    if verify and not check.valid:
        raise typer.Exit(1)


def read_records(query: Callable[[RecordsStore], Awaitable[T]]) -> T:
    """Run one query against the records database, saying plainly if it cannot be read."""
    # Imported here: SQLAlchemy costs a quarter of a second at start-up, and only the auditor commands need it.
    from sqlalchemy.exc import SQLAlchemyError

    from peer_review.records.store import RecordsStore

    async def read() -> T:
        store = RecordsStore.from_url(Settings().records_url)
        try:
            return await query(store)
        finally:
            await store.close()

    try:
        return asyncio.run(read())
    except SQLAlchemyError as error:
        fail(ReviewError(f"cannot read the records database: {error}"))


def require_staff(staff_id: str, *, full_record: bool) -> None:
    """Exports are for people in the directory; the full export only for those who may read the full record."""
    try:
        person = load_directory(Settings().directory).find(staff_id)
    except DirectoryError as error:
        fail(ReviewError(str(error)))
    if person is None:
        fail(ActionRejected(f"{staff_id} is not in the staff directory", RejectionKind.NOT_PERMITTED))
    if full_record and not may_read_full_record(person.roles):
        wanted = " or ".join(sorted(role.value for role in FULL_RECORD_READERS))
        fail(ActionRejected(f"only an {wanted} may export a full review; use --redacted", RejectionKind.NOT_PERMITTED))


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def export(
    ref: Ref,
    actor: Actor,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="json, csv or html.")] = ExportFormat.JSON,
    redacted: Annotated[
        bool, typer.Option("--redacted", help="Only what may be disclosed: recommendations, dates, outcome.")
    ] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")] = None,
) -> None:
    """Export a whole review from the records database (auditors and the Focal Point; --redacted for anyone)."""
    checked_ref(ref)
    require_staff(actor, full_record=not redacted)
    from peer_review.records.read_model import review_record

    record = read_records(lambda store: review_record(store, ref))
    if record is None:
        fail(ReferralNotFound(f"no records for referral {ref}"))
    document = exports.redacted(record) if redacted else exports.full(record)
    rendered = exports.render(document, fmt.value)
    if output:
        output.write_text(rendered, encoding="utf-8")
        err.print(f"Wrote {output}")
    else:
        sys.stdout.write(rendered)


def recommendations(
    level: Annotated[RecommendationLevel | None, typer.Option(help="Only local or national ones.")] = None,
    status_: Annotated[str | None, typer.Option("--status", help="Only this status, e.g. open.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The recommendations register across reviews (national ones are what the organisation must track)."""
    from peer_review.records.read_model import recommendation_register

    level_value = level.value if level else None
    items = read_records(lambda store: recommendation_register(store, level=level_value, status=status_))
    if as_json:
        emit_json(
            [
                {
                    "referral_id": item.referral_id,
                    **item.recommendation.model_dump(mode="json"),
                    "status": item.status,
                    "recorded_at": item.recorded_at.isoformat(),
                }
                for item in items
            ]
        )
        return
    table = Table(title=f"{len(items)} recommendation(s)", title_justify="left")
    for column in ("Referral", "Level", "Recommendation", "Owner", "Status", "Recorded"):
        table.add_column(column, overflow="fold")
    for item in items:
        rec = item.recommendation
        table.add_row(
            item.referral_id, rec.level.value, rec.text, rec.owner, item.status, item.recorded_at.strftime("%Y-%m-%d")
        )
    out.print(table)


def history(ref: Ref, as_json: JsonFlag = False) -> None:
    """The Temporal event history, with payloads decoded."""
    events = run(lambda reviews: reviews.history_events(checked_ref(ref)))
    if as_json:
        emit_json(events)
        return
    table = Table(title=f"Event history of peer-review-{ref}", title_justify="left")
    for column in ("ID", "Time", "Event", "Details"):
        table.add_column(column, overflow="fold")
    for event in events:
        kind = str(event.get("eventType", "")).removeprefix("EVENT_TYPE_")
        details = {k: v for k, v in event.items() if k.endswith("Attributes")}
        summary = json.dumps(next(iter(details.values()), {}), default=str)
        table.add_row(
            str(event.get("eventId")), str(event.get("eventTime", ""))[:23], kind, Text(printable(summary[:300]))
        )
    out.print(table)


def list_reviews(
    status_: Annotated[Status | None, typer.Option("--status", help="Only reviews in this status.")] = None,
    osn: Annotated[str | None, typer.Option(help="Only reviews of this OSN.")] = None,
    reason: Annotated[Reason | None, typer.Option(help="Only reviews with this reason.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue reviews.")] = False,
    limit: Annotated[
        int | None, typer.Option(help="At most this many (default: all with --json, the newest 100 in a table).", min=1)
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Find reviews by status, OSN, reason or overdue (a visibility query)."""
    selection = ListFilter(status=status_, osn=osn, reason=reason, overdue=overdue)
    if as_json:
        reviews = run(lambda client: client.list(selection, limit=limit))
        emit_json([review.model_dump(mode="json") for review in reviews])
        return
    # A table of thousands of rows helps nobody and takes seconds to draw: show a page and the total.
    shown = limit or TABLE_ROWS

    async def page_and_total(client: PeerReviewClient) -> tuple[list[ListedReview], int]:
        return await client.list(selection, limit=shown), await client.count(selection)

    reviews, total = run(page_and_total)
    title = f"{total} review(s)" if total <= len(reviews) else f"{len(reviews)} of {total} review(s), newest first"
    table = Table(title=title, title_justify="left", caption=None if total <= len(reviews) else "--limit N shows more")
    for column in ("Referral", "Status"):
        table.add_column(column, no_wrap=True)  # ids are what people copy: never cut them short
    for column in ("OSN", "Reasons", "Mandatory", "Overdue", "Due", "Started"):
        table.add_column(column, overflow="fold")
    for review in reviews:
        table.add_row(
            review.referral_id,
            review.status or "-",
            review.osn or "-",
            ", ".join(review.reasons),
            "yes" if review.mandatory else "no",
            "[red]YES[/]" if review.overdue else "no",
            review.due_at.strftime("%Y-%m-%d") if review.due_at else "-",
            review.started_at.strftime("%Y-%m-%d %H:%M") if review.started_at else "-",
        )
    out.print(table)
