"""Reading commands: `status`, `audit`, `export`, `feedback`, `history` and `list`
(the recommendations register is peer_review/cli/recommendations.py).

`status`, `history` and `list` ask Temporal (`status` adds the related reviews from the records database);
`audit`, `export` and `feedback` read the records database, the long-term system of record.

Each takes `--as STAFF` and shows only what that person may read, by the one read rule
(peer_review.domain.lifecycle.read_scope); anyone else gets exit 3. Every read of a full record, allowed or not,
goes to the access log with the operator who ran the command. `status` without `--as` shows only where the review
stands (status, stage, outcome, deadlines), nothing about who or why.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from peer_review.cli.common import (
    SUMMARY_FIELDS,
    JsonFlag,
    Reader,
    Ref,
    checked_ref,
    emit_json,
    err,
    fail,
    out,
    printable,
    run,
    show_related,
    show_status,
)
from peer_review.domain import lifecycle
from peer_review.domain.as_of import parse_moment as as_of_moment
from peer_review.domain.lifecycle import Parties, RejectionKind, may_read, read_scope
from peer_review.domain.models import Reason, RelatedReview, Staff, Status
from peer_review.domain.notices import is_internal
from peer_review.domain.proofs import os_user_name
from peer_review.domain.staff_directory import Directory, DirectoryError, load_directory
from peer_review.settings import Settings
from peer_review.temporal.client import (
    ActionRejected,
    InvalidInput,
    ListedReview,
    ListFilter,
    PeerReviewClient,
    ReferralNotFound,
    ReviewError,
)
from peer_review.temporal.codec import KeyRingError
from peer_review.temporal.key_rings import load_chain_ring

if TYPE_CHECKING:
    from peer_review.records.read_model import Search
    from peer_review.records.store import RecordsStore

T = TypeVar("T")
TABLE_ROWS = 100


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("audit")(audit)
    app.command("export")(export)
    app.command("feedback")(feedback)
    app.command("history")(history)
    app.command("list")(list_reviews)


OptionalReader = Annotated[
    str | None,
    typer.Option("--as", help="Your staff id: with it, the full status (who, why), if you may read it."),
]


def reader(staff_id: str) -> lifecycle.Reader:
    """The person reading, from the directory: only internal staff in it may read."""
    settings = Settings()
    try:
        directory = load_directory(settings.directory)
    except DirectoryError as error:
        fail(ReviewError(str(error)))
    staff = directory.find(staff_id)
    found = directory.reader(staff_id)
    if staff is None or found is None:
        fail(ActionRejected(f"{staff_id} is not in the staff directory", RejectionKind.NOT_PERMITTED))
    if not is_internal(staff.email, settings.internal_domains):
        log_read(staff_id, "sign-in", None, allowed=False)
        fail(ActionRejected(f"{staff_id} is not on an internal domain", RejectionKind.NOT_PERMITTED))
    return found


def log_read(staff_id: str, what: str, referral_id: str | None, *, allowed: bool) -> None:
    from peer_review.records.store import AccessEntry

    operator = f"operator {os_user_name(getpass.getuser())} for {staff_id}"
    entry = AccessEntry(staff_id, what, referral_id, "cli", allowed, operator)
    read_records(lambda store: store.log_access(entry))


def logged_while(staff_id: str, what: str, work: Callable[[], T]) -> T:
    """Do `work` (a Temporal read) while the read is written to the access log, and hand its result back only
    once the log holds the read. Opening the records database starts with a quarter of a second of importing,
    which the wait for Temporal's answer hides."""
    with ThreadPoolExecutor(max_workers=1) as beside:
        logged = beside.submit(log_read, staff_id, what, None, allowed=True)
        try:
            result = work()
        finally:
            logged.result()  # a log that could not be written fails the command, whatever the read found
    return result


def check_read(person: lifecycle.Reader, what: str, referral_id: str, parties: Parties | None) -> None:
    """Exit 3 unless `person` may read this review (4 if there is nothing to read); the access log says which."""
    if parties is None:
        fail(ReferralNotFound(f"no records for referral {referral_id}"))
    allowed = may_read(person, parties)
    log_read(person.staff_id, what, referral_id, allowed=allowed)
    if not allowed:
        fail(ActionRejected(f"{person.staff_id} may not read review {referral_id}", RejectionKind.NOT_PERMITTED))


def recorded_parties(referral_id: str) -> Parties | None:
    from peer_review.records.read_model import parties

    return read_records(lambda store: parties(store, referral_id))


def chain_keys() -> dict[str, bytes]:
    try:
        return dict(load_chain_ring(Settings()).keys)
    except KeyRingError as error:
        fail(ReviewError(f"cannot check the audit chain: {error}"))


AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Rebuild the review as it stood at this moment (ISO 8601; a date alone means the end of that day, UTC) "
        "from the records database alone. Needs --as.",
    ),
]


def status(ref: Ref, actor: OptionalReader = None, as_of: AsOf = None, as_json: JsonFlag = False) -> None:
    """Show where a review stands; with --as, the full status (OSN, Chair, reviewer, reasons) and the other reviews
    of the same case or customer, if you may read it; with --as-of, as it stood then."""
    if as_of is not None:
        if not actor:
            fail(InvalidInput("--as: required with --as-of (the view says who acted and why)"))
        status_as_of(checked_ref(ref), reader(actor), parse_moment(as_of), as_json)
        return
    person = reader(actor) if actor else None
    view = run(lambda reviews: reviews.status(checked_ref(ref)))
    if person is None:
        shown = view.model_dump(mode="json")
        if as_json:
            emit_json({key: shown[key] for key in SUMMARY_FIELDS})
        else:
            show_status(view, details=False)
        return
    check_read(person, "status", ref, Parties.of(view))
    related = related_to(ref)
    if as_json:
        emit_json({**view.model_dump(mode="json"), "related": _related_json(related)})
    else:
        show_status(view)
        show_related(related)


def parse_moment(value: str) -> datetime:
    """An ISO 8601 moment (UTC unless it says otherwise); a date alone is the end of that day."""
    try:
        return as_of_moment(value)
    except ValueError:
        fail(InvalidInput(f"--as-of: {value!r} is not an ISO 8601 date or date and time"))


def status_as_of(ref: str, person: lifecycle.Reader, moment: datetime, as_json: bool) -> None:
    from peer_review.records.read_model import as_it_stood_on

    check_read(person, "status-as-of", ref, recorded_parties(ref))
    view = read_records(lambda store: as_it_stood_on(store, ref, moment))
    if view is None:
        fail(ReferralNotFound(f"review {ref} had not been referred by {moment.isoformat()}"))
    if as_json:
        emit_json(view.model_dump(mode="json"))
        return
    table = Table(title=f"Peer Review {ref} as it stood at {moment:%Y-%m-%d %H:%M:%S} UTC", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    deadline = view.deadline
    due = deadline.due_at.isoformat(timespec="minutes") if deadline and deadline.due_at else "-"
    for key, value in {
        "Status": view.status.value,
        "Stage": view.stage,
        "Outcome": view.outcome.value if view.outcome else "-",
        "Mandatory": {True: "yes", False: "no", None: "-"}[view.mandatory],
        "Reasons": ", ".join(view.reasons),
        "Chair": view.chair or "-",
        "Reviewer": view.reviewer or "-",
        "Waiting since": deadline.waiting_since.isoformat(timespec="minutes") if deadline else "-",
        "Due": due,
        "Overdue": "YES" if view.overdue else "no",
        "Findings submitted": ", ".join(at.isoformat(timespec="minutes") for at in view.findings_submitted_at) or "-",
    }.items():
        table.add_row(key, value)
    out.print(table)
    decisions = Table(title="Decisions by then", title_justify="left")
    for column in ("At (UTC)", "Actor", "Action", "Detail"):
        decisions.add_column(column, overflow="fold")
    for event in view.decisions:
        decisions.add_row(
            event.at.strftime("%Y-%m-%d %H:%M:%S"), event.actor, event.action, Text(printable(event.detail or ""))
        )
    out.print(decisions)


def related_to(ref: str) -> list[RelatedReview] | None:
    """Other reviews of the same case or customer; None (with a warning) when the records cannot tell."""
    from peer_review.records import read_model

    return read_records_or_none(lambda store: read_model.related_to(store, ref), "related reviews")


def _related_json(related: list[RelatedReview] | None) -> list[dict[str, object]] | None:
    return None if related is None else [item.model_dump(mode="json") for item in related]


def audit(
    actor: Reader,
    ref: Annotated[str | None, typer.Argument(help="The referral id (not with --verify-all).")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Recompute the keyed chain; exit 1 if broken.")] = False,
    verify_all: Annotated[
        bool,
        typer.Option(
            "--verify-all",
            help="Check every review's chain, the retention register and every disposal certificate, with counts; "
            "exit 1 if anything is broken (auditors and the Focal Point).",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """The audit trail from the records database (the system of record), its keyed chain checked. A disposed review
    answers with its disposal certificate, checked."""
    if verify_all:
        audit_everything(reader(actor), as_json)
        return
    if ref is None:
        fail(InvalidInput("REF: required (or --verify-all)"))
    checked_ref(ref)
    parties = recorded_parties(ref)
    if parties is None:
        audit_disposed(reader(actor), ref, as_json)
        return
    check_read(reader(actor), "audit", ref, parties)
    record = read_records(lambda store: store.audit_record(ref))
    if record is None:
        fail(ReferralNotFound(f"no records for referral {ref}"))
    check = record.verify(chain_keys())
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
        for column in ("#", "At (UTC)", "Actor", "Proven by", "Action", "From → to", "Detail"):
            table.add_column(column, overflow="fold")
        for row in record.events:
            e = row.event
            moved = f"{e.from_status or ''} → {e.to_status or ''}" if e.to_status else ""
            # Detail holds what people wrote (rationales, reasons): shown as plain text, never as markup.
            detail = Text(printable(e.detail or ""))
            at = e.at.strftime("%Y-%m-%d %H:%M:%S")
            table.add_row(str(e.seq), at, e.actor, e.proven_by or "", e.action, moved, detail)
        out.print(table)
        if check.valid:
            out.print(f"[green]Keyed chain valid[/] over {len(record.events)} events.")
        else:
            out.print(f"[bold red]Keyed chain BROKEN[/] at event {check.broken_at_seq}: {check.problem}")
    if verify and not check.valid:
        raise typer.Exit(1)


def audit_disposed(person: lifecycle.Reader, ref: str, as_json: bool) -> None:
    """What remains of a disposed review: its certificate, checked against the retention register (exit 1 if it
    does not stand). Auditors and the Focal Point may read it."""
    from peer_review.records.retention import certificate_of, verify_certificate

    sealed = read_records(lambda store: certificate_of(store, ref))
    if sealed is None:
        fail(ReferralNotFound(f"no records for referral {ref}"))
    allowed = read_scope(person).everything
    log_read(person.staff_id, "certificate", ref, allowed=allowed)
    if not allowed:
        fail(ActionRejected(f"{person.staff_id} may not read review {ref}", RejectionKind.NOT_PERMITTED))
    keys = chain_keys()
    problem = read_records(lambda store: verify_certificate(store, sealed, keys))
    disposed_on = sealed.entry.at.date().isoformat()
    if as_json:
        emit_json(
            {
                "referral_id": ref,
                "disposed": True,
                "disposed_on": disposed_on,
                "disposed_by": sealed.entry.actor,
                "certificate": sealed.entry.document,
                "register_seq": sealed.entry.seq,
                "certificate_valid": problem is None,
                **({"problem": problem} if problem else {}),
            }
        )
    else:
        out.print(f"Review {ref} was disposed on {disposed_on} by {sealed.entry.actor}.")
        table = Table(title="Disposal certificate", show_header=False, title_justify="left")
        for key, value in sealed.entry.document.items():
            table.add_row(key, json.dumps(value) if isinstance(value, dict | list) else str(value))
        out.print(table)
        if problem is None:
            out.print(f"[green]Certificate valid[/] (retention register entry {sealed.entry.seq}).")
        else:
            out.print(f"[bold red]Certificate does NOT stand[/]: {problem}")
    if problem is not None:
        raise typer.Exit(1)


def audit_everything(person: lifecycle.Reader, as_json: bool) -> None:
    """`audit --verify-all`: every chain and certificate, with counts (the restore drill's check)."""
    from peer_review.records.retention import verify_all

    allowed = read_scope(person).everything
    log_read(person.staff_id, "verify-all", None, allowed=allowed)
    if not allowed:
        fail(ActionRejected(f"{person.staff_id} may not read every review", RejectionKind.NOT_PERMITTED))
    keys = chain_keys()
    report = read_records(lambda store: verify_all(store, keys))
    if as_json:
        emit_json(report.as_dict())
    else:
        table = Table(title="Records database check", show_header=False, title_justify="left")
        for key, value in report.as_dict().items():
            if key != "problems":
                table.add_row(key.replace("_", " "), str(value))
        out.print(table)
        for referral_id, problem in report.problems:
            out.print(Text(f"BROKEN {referral_id}: {printable(problem)}", style="bold red"))
    if not report.valid:
        raise typer.Exit(1)


def _query_records(query: Callable[[RecordsStore], Awaitable[T]]) -> T:
    # Imported here: SQLAlchemy costs a quarter of a second at start-up, and only some commands need it.
    from peer_review.records.store import RecordsStore

    async def read() -> T:
        store = RecordsStore.from_url(Settings().records_url)
        try:
            return await query(store)
        finally:
            await store.close()

    return asyncio.run(read())


def read_records(query: Callable[[RecordsStore], Awaitable[T]]) -> T:
    """Run one query against the records database, saying plainly if it cannot be read."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return _query_records(query)
    except SQLAlchemyError as error:
        fail(ReviewError(f"cannot read the records database: {error}"))


def read_records_or_none(query: Callable[[RecordsStore], Awaitable[T]], what: str) -> T | None:
    """Like read_records, for extras that must never fail a command: a warning on stderr and None instead."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return _query_records(query)
    except (SQLAlchemyError, OSError) as error:
        err.print(Text(f"warning: {what} not shown: cannot read the records database ({type(error).__name__})"))
        return None


def directory() -> Directory:
    try:
        return load_directory(Settings().directory)
    except DirectoryError as error:
        fail(ReviewError(str(error)))


def require_staff(staff_id: str) -> Staff:
    """Someone in the staff directory (who may read what is decided by each command)."""
    person = directory().find(staff_id)
    if person is None:
        fail(ActionRejected(f"{staff_id} is not in the staff directory", RejectionKind.NOT_PERMITTED))
    return person


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def export(
    ref: Ref,
    actor: Reader,
    fmt: Annotated[ExportFormat, typer.Option("--format", help="json, csv or html.")] = ExportFormat.JSON,
    redacted: Annotated[
        bool, typer.Option("--redacted", help="Only what may be disclosed: recommendations, dates, outcome.")
    ] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")] = None,
) -> None:
    """Export a whole review from the records database (whoever may read it; --redacted for any internal staff)."""
    checked_ref(ref)
    person = reader(actor)
    if redacted:
        log_read(actor, "export-redacted", ref, allowed=True)
    else:
        check_read(person, "export", ref, recorded_parties(ref))
    from peer_review.records.read_model import review_record

    record = read_records(lambda store: review_record(store, ref))
    if record is None:
        fail(ReferralNotFound(f"no records for referral {ref}"))
    # Imported here: the export pulls in SQLAlchemy, which every other command would pay for at start-up.
    from peer_review.records import export as exports

    document = exports.redacted(record, directory().owner_label) if redacted else exports.full(record, chain_keys())
    rendered = exports.render(document, fmt.value)
    if output:
        output.write_text(rendered, encoding="utf-8")
        err.print(f"Wrote {output}")
    else:
        sys.stdout.write(rendered)


def feedback(ref: Ref, actor: Reader, as_json: JsonFlag = False) -> None:
    """A closed review's outcome and local recommendations (its referrer and the site's contacts)."""
    checked_ref(ref)
    reader(actor)  # only internal staff in the directory
    person = require_staff(actor)
    from peer_review.records.feedback import FeedbackRefused, local_feedback
    from peer_review.records.read_model import review_record

    record = read_records(lambda store: review_record(store, ref))
    if record is None:
        fail(ReferralNotFound(f"no records for referral {ref}"))
    try:
        found = local_feedback(record, directory(), person)
    except FeedbackRefused as refused:
        fail(ActionRejected(str(refused), refused.kind))
    if as_json:
        emit_json(found.model_dump(mode="json"))
        return
    out.print(
        f"Peer Review {found.referral_id}: {found.outcome.value if found.outcome else 'closed'} "
        f"(referred {found.referred_on}, closed {found.closed_on})"
    )
    if not found.local_recommendations:
        out.print("No local recommendations.")
        return
    table = Table(title="Local recommendations", title_justify="left")
    for column in ("#", "Recommendation", "Owner", "Status"):
        table.add_column(column, overflow="fold")
    for number, item in enumerate(found.local_recommendations, start=1):
        owner = f"{item.owner_function} ({item.owner})"
        table.add_row(str(number), Text(printable(item.text)), Text(printable(owner)), item.status)
    out.print(table)


def history(ref: Ref, actor: Reader, as_json: JsonFlag = False) -> None:
    """The Temporal event history, with payloads decoded (if you may read the review)."""
    person = reader(actor)
    view = run(lambda reviews: reviews.status(checked_ref(ref)))
    check_read(person, "history", ref, Parties.of(view))
    events = run(lambda reviews: reviews.history_events(ref))
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
    actor: Reader,
    status_: Annotated[Status | None, typer.Option("--status", help="Only reviews in this status.")] = None,
    osn: Annotated[str | None, typer.Option(help="Only reviews of this OSN.")] = None,
    reason: Annotated[Reason | None, typer.Option(help="Only reviews with this reason.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue reviews.")] = False,
    held: Annotated[
        bool, typer.Option("--held", help="Only reviews under a legal hold (from the records database).")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(help="At most this many (default: all with --json, the newest 100 in a table).", min=1)
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Find the reviews you may read by status, OSN, reason or overdue (a visibility query)."""
    scope = read_scope(reader(actor))
    if held:
        from peer_review.records.read_model import Search

        list_held(scope, Search(status=status_, osn=osn, reason=reason, overdue=overdue, held=True), as_json)
        return
    # Someone who may read everything needs nothing from the records database before asking Temporal, so its
    # quarter of a second of importing happens beside that query, in the access log's thread (`logged_while`).
    readable = () if scope.everything else _readable_by(actor)
    selection = ListFilter(status=status_, osn=osn, reason=reason, overdue=overdue, scope=scope, readable_ids=readable)
    if as_json:
        reviews = logged_while(actor, "list", lambda: run(lambda client: client.list(selection, limit=limit)))
        emit_json([review.model_dump(mode="json") for review in reviews])
        return
    # A table of thousands of rows helps nobody and takes seconds to draw: show a page and the total.
    shown = limit or TABLE_ROWS

    async def page_and_total(client: PeerReviewClient) -> tuple[list[ListedReview], int]:
        return await asyncio.gather(client.list(selection, limit=shown), client.count(selection))

    reviews, total = logged_while(actor, "list", lambda: run(page_and_total))
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


def _readable_by(staff_id: str) -> tuple[str, ...]:
    """The referral ids of the reviews `staff_id` takes part in, from the records database."""
    from peer_review.records.read_model import involving

    return tuple(read_records(lambda store: involving(store, staff_id)))


def list_held(scope: lifecycle.ReadScope, criteria: Search, as_json: bool) -> None:
    """Held reviews are mostly closed ones, which Temporal may have deleted: they are listed from the records."""
    from peer_review.records.read_model import held_reviews

    log_read(scope.staff_id, "list", None, allowed=True)
    rows = read_records(lambda store: held_reviews(store, criteria, scope))
    if as_json:
        emit_json(
            [
                {
                    "referral_id": row.referral_id,
                    "status": row.status.value,
                    "outcome": row.outcome,
                    "osn": row.osn,
                    "reasons": row.reasons,
                    "held": row.held,
                    "referred_at": row.created_at.isoformat(),
                    "updated_at": row.updated_at.isoformat(),
                }
                for row in rows
            ]
        )
        return
    table = Table(title=f"{len(rows)} held review(s)", title_justify="left")
    for column in ("Referral", "Status", "Outcome", "OSN", "Reasons", "Referred"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.referral_id,
            row.status.value,
            row.outcome or "-",
            row.osn,
            ", ".join(row.reasons),
            row.created_at.strftime("%Y-%m-%d"),
        )
    out.print(table)
