"""Tracked recommendations: the register (`peer-review recommendations`) and the actions on one
(`peer-review recommendation show|accept|decline|start|implement|verify|reopen|reassign REC-ID`).

The action commands come from the table in peer_review.domain.recommendations, one per row, each with the field its
row requires as a required option. Reads are scoped by peer_review.domain.lifecycle.recommendation_scope and
written to the access log.
"""

from __future__ import annotations

import csv
import inspect
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from peer_review.cli.common import (
    RUN_REQUEST_ID,
    Actor,
    JsonFlag,
    Reader,
    RequestId,
    emit_json,
    fail,
    out,
    printable,
    run,
)
from peer_review.cli.reading import directory, log_read, read_records, reader
from peer_review.domain.lifecycle import RecommendationScope, RejectionKind, recommendation_scope
from peer_review.domain.models import (
    RECOMMENDATION_ID,
    RecommendationAct,
    RecommendationLevel,
    RecommendationStatus,
    RecommendationView,
    RegisterEntry,
)
from peer_review.domain.recommendations import STEPS, Needs, Step
from peer_review.temporal.client import ActionRejected, InvalidInput

RecId = Annotated[str, typer.Argument(metavar="REC-ID", help="The recommendation id, e.g. PR-2026-0003-R1.")]

NEEDS_HELP = {
    Needs.RATIONALE: "Why it is not accepted (required).",
    Needs.EVIDENCE: "What shows it is implemented (required).",
    Needs.REASON: "Why it is reopened (required).",
    Needs.OWNER: "The new owner: a staff or team id from the directory (required).",
}


def register(app: typer.Typer) -> None:
    app.command("recommendations")(recommendations)
    group = typer.Typer(help="Show or act on one tracked recommendation.", no_args_is_help=True)
    group.command("show")(show)
    for step in STEPS:
        group.command(step.command, help=step.summary)(command_for(step))
    app.add_typer(group, name="recommendation")


def scope_of(staff_id: str) -> RecommendationScope:
    return recommendation_scope(reader(staff_id), directory().owned_by(staff_id))


def recommendations(
    actor: Reader,
    level: Annotated[RecommendationLevel | None, typer.Option(help="Only local or national ones.")] = None,
    status_: Annotated[RecommendationStatus | None, typer.Option("--status", help="Only this status.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner (a staff or team id).")] = None,
    osn: Annotated[str | None, typer.Option(help="Only recommendations of this OSN's reviews.")] = None,
    theme: Annotated[str | None, typer.Option(help="Only this theme.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
    as_json: JsonFlag = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
) -> None:
    """The recommendations register you may read, overdue first (owners, the OSN's Chair, national leads,
    auditors and the Focal Point; and the recommendations of the reviews you may read)."""
    from peer_review.records.read_model import RegisterFilter, recommendation_register

    scope = scope_of(actor)
    log_read(actor, "recommendations", None, allowed=True)
    selection = RegisterFilter(level=level, status=status_, owner=owner, osn=osn, theme=theme, overdue=overdue)
    items = read_records(lambda store: recommendation_register(store, scope=scope, selection=selection))
    rows = [item.model_dump(mode="json") for item in items]
    if as_json:
        emit_json(rows)
        return
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(REGISTER_FIELDS))
        writer.writeheader()
        writer.writerows({key: row[key] for key in REGISTER_FIELDS} for row in rows)
        return
    table = Table(title=f"{len(items)} recommendation(s), overdue first", title_justify="left")
    for column in ("Id", "Level", "Recommendation", "Owner", "Theme", "Status", "Due", "Overdue"):
        table.add_column(column, overflow="fold", no_wrap=column == "Id")
    for item, row in zip(items, rows, strict=True):
        table.add_row(
            row["recommendation_id"] or item.referral_id,
            row["level"],
            Text(printable(row["text"])),
            row["owner"],
            row["theme"] or "-",
            row["status"],
            item.due_at.strftime("%Y-%m-%d") if item.due_at else "-",
            "[red]YES[/]" if item.overdue else "no",
        )
    out.print(table)


REGISTER_FIELDS = tuple(RegisterEntry.model_fields)


def checked_rec_id(rec_id: str) -> str:
    if not RECOMMENDATION_ID.fullmatch(rec_id):
        fail(InvalidInput(f"REC-ID: {rec_id!r} is not a recommendation id (a referral id, -R and its number)"))
    return rec_id


def show(rec_id: RecId, actor: Reader, as_json: JsonFlag = False) -> None:
    """Where one recommendation stands, if you may read it."""
    from peer_review.records.read_model import parties

    scope = scope_of(actor)
    view = run(lambda reviews: reviews.recommendation(checked_rec_id(rec_id)))
    review = read_records(lambda store: parties(store, view.referral_id))
    allowed = scope.allows(osn=view.osn, owner=view.owner, review=review)
    log_read(actor, "recommendation", view.referral_id, allowed=allowed)
    if not allowed:
        fail(ActionRejected(f"{actor} may not read recommendation {rec_id}", RejectionKind.NOT_PERMITTED))
    shown(view, as_json)


def shown(view: RecommendationView, as_json: bool) -> None:
    if as_json:
        emit_json(view.model_dump(mode="json"))
        return
    table = Table(title=f"Recommendation {view.recommendation_id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rows = {
        "Status": view.status.value,
        "Level": view.level.value,
        "Recommendation": view.text,
        "Owner": view.owner,
        "Theme": view.theme or "-",
        "Stage": view.stage or "-",
        "Review": view.referral_id,
        "Due": view.due_at.isoformat(timespec="minutes") if view.due_at else "-",
        "Overdue": "YES" if view.overdue else "no",
    }
    if view.rationale:
        rows["Rationale"] = view.rationale
    if view.evidence:
        rows["Evidence"] = view.evidence
    for key, value in rows.items():
        table.add_row(key, Text(printable(value)))
    out.print(table)


def command_for(step: Step) -> Callable[..., None]:
    """A Typer command for one row of the table: REC-ID, --as, the field the row requires, --request-id, --json."""

    def parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)

    parameters = [parameter("rec_id", RecId), parameter("actor", Actor)]
    if step.needs is not Needs.NOTHING:
        option = Annotated[str, typer.Option(f"--{step.needs.value}", help=NEEDS_HELP[step.needs], show_default=False)]
        parameters.append(parameter(step.needs.value, option))
    parameters += [parameter("request_id", RequestId, None), parameter("as_json", JsonFlag, False)]

    def command(**options: Any) -> None:
        from peer_review.cli.common import payload

        fields = {"actor": options["actor"]}
        if step.needs is not Needs.NOTHING:
            fields[step.needs.value] = options[step.needs.value]
        request = payload(RecommendationAct, **fields)
        rec_id = checked_rec_id(options["rec_id"])
        request_id = options["request_id"] or RUN_REQUEST_ID
        view = run(lambda reviews: reviews.act_on_recommendation(rec_id, step.action, request, request_id=request_id))
        if not options["as_json"]:
            out.print(f"[green]{step.action.value}: done[/]")
        shown(view, options["as_json"])

    command.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    command.__name__ = step.action.value
    command.__doc__ = step.summary
    return command
