"""`peer-review`: the command line for caseworkers, OSN Chairs, reviewers and auditors (DESIGN §5).

Exit codes: 0 done; 2 invalid input (the message names the field); 3 action rejected (the message says
why); 4 no such referral; 1 anything else, such as an unreachable Temporal server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from peer_review.cli.common import (
    Actor,
    JsonFlag,
    Ref,
    SourceFile,
    act,
    checked_ref,
    emit_json,
    err,
    fail,
    load,
    out,
    payload,
    printable,
    run,
    show_status,
)
from peer_review.cli.serving import register as register_extra_commands
from peer_review.domain.lifecycle import ActionName, RejectionKind
from peer_review.domain.models import (
    Decision,
    Findings,
    FindingsSubmission,
    Reason,
    RecommendationLevel,
    Referral,
    ReviewerAssignment,
    Rework,
    Role,
    Status,
    Withdrawal,
)
from peer_review.domain.staff_directory import DirectoryError, load_directory
from peer_review.foreground import run_until_signalled
from peer_review.records import export as exports
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
from peer_review.temporal.codec import KeyRing, KeyRingError

TABLE_ROWS = 100

if TYPE_CHECKING:
    from peer_review.records.store import RecordsStore

T = TypeVar("T")

app = typer.Typer(
    help="Peer Reviews of complaint handling: refer, decide, review, close and audit.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def refer(source: SourceFile, as_json: JsonFlag = False) -> None:
    """Start a review from a Referral JSON file (a repeat returns the existing review)."""
    referral = load(Referral, source)
    result = run(lambda reviews: reviews.refer(referral))
    if as_json:
        emit_json(result.model_dump(mode="json"))
    elif result.already_started:
        out.print(f"Review {result.referral_id} already exists ({result.status.value}); nothing new was started.")
    else:
        out.print(f"[green]Started review {result.referral_id}[/] (workflow {result.workflow_id}).")


@app.command()
def approve(
    ref: Ref,
    actor: Actor,
    rationale: Annotated[str | None, typer.Option(help="Why the review is appropriate.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Approve a referral for review (OSN Chair or deputy)."""
    act(ref, ActionName.APPROVE, payload(Decision, actor=actor, rationale=rationale), as_json)


@app.command()
def decline(
    ref: Ref,
    actor: Actor,
    rationale: Annotated[str, typer.Option(help="Why no review is needed (required).", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Decline a referral, with a rationale (OSN Chair or deputy; never a mandatory review)."""
    act(ref, ActionName.DECLINE, payload(Decision, actor=actor, rationale=rationale), as_json)


@app.command("assign-reviewer")
def assign_reviewer(
    ref: Ref,
    reviewer: Annotated[str, typer.Option(help="Staff id of the peer reviewer.", show_default=False)],
    actor: Actor,
    as_json: JsonFlag = False,
) -> None:
    """Assign a peer reviewer from another site (Chair or Focal Point)."""
    act(ref, ActionName.ASSIGN_REVIEWER, payload(ReviewerAssignment, actor=actor, reviewer=reviewer), as_json)


@app.command("submit-findings")
def submit_findings(ref: Ref, source: SourceFile, actor: Actor, as_json: JsonFlag = False) -> None:
    """Submit findings from a Findings JSON file (the assigned reviewer)."""
    findings = load(Findings, source)
    act(ref, ActionName.SUBMIT_FINDINGS, payload(FindingsSubmission, actor=actor, findings=findings), as_json)


@app.command()
def clear(ref: Ref, actor: Actor, as_json: JsonFlag = False) -> None:
    """Give legal clearance to contentious findings (Focal Point)."""
    act(ref, ActionName.CLEAR, payload(Decision, actor=actor), as_json)


@app.command("sign-off")
def sign_off(ref: Ref, actor: Actor, as_json: JsonFlag = False) -> None:
    """Sign off the findings and close the review (Chair)."""
    act(ref, ActionName.SIGN_OFF, payload(Decision, actor=actor), as_json)


@app.command("return-for-rework")
def return_for_rework(
    ref: Ref,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="What needs reworking.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Return the findings to the reviewer (Chair)."""
    act(ref, ActionName.RETURN_FOR_REWORK, payload(Rework, actor=actor, reason=reason), as_json)


@app.command()
def withdraw(
    ref: Ref,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="Why the referral is withdrawn.", show_default=False)],
    as_json: JsonFlag = False,
) -> None:
    """Withdraw a referral before findings (referrer or Chair; never a mandatory review)."""
    act(ref, ActionName.WITHDRAW, payload(Withdrawal, actor=actor, reason=reason), as_json)


@app.command()
def status(ref: Ref, as_json: JsonFlag = False) -> None:
    """Show where a review stands."""
    view = run(lambda reviews: reviews.status(checked_ref(ref)))
    if as_json:
        emit_json(view.model_dump(mode="json"))
    else:
        show_status(view)


@app.command()
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


def require_staff(staff_id: str, roles: set[Role] | None) -> None:
    """Exports are for people in the directory; the full export only for auditors and the Focal Point."""
    try:
        person = load_directory(Settings().directory).find(staff_id)
    except DirectoryError as error:
        fail(ReviewError(str(error)))
    if person is None:
        fail(ActionRejected(f"{staff_id} is not in the staff directory", RejectionKind.NOT_PERMITTED))
    if roles is not None and not roles & set(person.roles):
        wanted = " or ".join(sorted(role.value for role in roles))
        fail(ActionRejected(f"only an {wanted} may export a full review; use --redacted", RejectionKind.NOT_PERMITTED))


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


@app.command()
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
    require_staff(actor, None if redacted else {Role.AUDITOR, Role.FOCAL_POINT})
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


@app.command()
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


@app.command()
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


@app.command("list")
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


keys = typer.Typer(help="The payload encryption key ring (PEER_REVIEW_KEY_FILE): list, add, activate.")
app.add_typer(keys, name="keys")


@keys.command("list")
def keys_list(as_json: JsonFlag = False) -> None:
    """The key ids in the ring; the last one encrypts. Never prints key material."""
    settings = Settings()
    try:
        ring = KeyRing.load(settings.key_file)
    except KeyRingError as error:
        fail(ReviewError(str(error)))
    ids = list(ring.keys)
    if as_json:
        emit_json({"key_file": str(settings.key_file), "keys": ids, "encrypting": ring.newest})
        return
    for key_id in ids:
        out.print(f"{key_id}{'  (encrypts)' if key_id == ring.newest else ''}")


@keys.command("add")
def keys_add(
    staged: Annotated[
        bool, typer.Option("--staged", help="Decrypt-only until `keys activate`: the first step of a rotation.")
    ] = False,
) -> None:
    """Add a new key. Rotation: `keys add --staged`, restart everything, `keys activate ID`, restart again."""
    key_id = KeyRing.add_key(Settings().key_file, staged=staged)
    out.print(f"Added {key_id}{' (staged: decrypts only)' if staged else ' (encrypts from now on)'}")


@keys.command("activate")
def keys_activate(key_id: Annotated[str, typer.Argument(help="A key id from `keys list`.")]) -> None:
    """Make a staged key the one that encrypts."""
    try:
        KeyRing.activate(Settings().key_file, key_id)
    except KeyRingError as error:
        fail(InvalidInput(str(error)))
    out.print(f"{key_id} now encrypts; restart workers, the codec server, the API and CLI hosts.")


@app.command("codec-server")
def codec_server() -> None:
    """Serve the payload codec so the Temporal Web UI can show decrypted reviews (PEER_REVIEW_CODEC_*)."""
    from peer_review.temporal.codec_server import serve_codec

    settings = Settings()
    out.print(f"Codec server on http://{settings.codec_host}:{settings.codec_port} (Ctrl-C stops it)")

    try:
        run_until_signalled(partial(serve_codec, settings))
    except KeyRingError as error:
        fail(ReviewError(str(error)))


register_extra_commands(app)


def main() -> None:
    try:
        app()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    # Leave without interpreter finalisation: the Temporal runtime's native thread can still be winding down
    # then, and Python aborts ("PyGILState_Release ... finalizing"), turning a finished command into a crash.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
