"""Shared pieces of the `peer-review` command line: output, errors and exit codes, payload loading.

Exit codes: 0 done; 2 invalid input (the message names the field); 3 action rejected (the message says
why); 4 no such referral; 1 anything else, such as an unreachable Temporal server.
"""

from __future__ import annotations

import asyncio
import json
import sys
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import IDENTIFIER, ActionPayload, RelatedReview, StatusView
from peer_review.settings import Settings
from peer_review.temporal.client import InvalidInput, PeerReviewClient, ReviewError

out = Console()
err = Console(stderr=True)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
Ref = Annotated[str, typer.Argument(help="The referral id, e.g. PR-2026-0001.", show_default=False)]
Actor = Annotated[str, typer.Option("--as", help="Your staff id.", show_default=False)]
Reader = Annotated[
    str, typer.Option("--as", help="Your staff id: you see only the reviews you may read.", show_default=False)
]
RequestId = Annotated[
    str | None,
    typer.Option(
        "--request-id",
        help="Any unique text; running the command again with the same id (and input) returns the first result "
        "instead of acting twice. Default: one per run.",
    ),
]
SourceFile = Annotated[str, typer.Argument(help="A JSON file, or - for standard input.", show_default=False)]


def printable(text: str) -> str:
    """Text from a user or a file, safe for a terminal: control and bidi characters shown as escapes."""
    return "".join(
        c if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf") else c.encode("unicode_escape").decode()
        for c in text
    )


def fail(error: ReviewError) -> NoReturn:
    # Messages quote what was sent (a field name, a file name): a Text is never read as rich markup or an emoji
    # code, and printable() keeps escape sequences away from the terminal. Never hard-wrapped, so a script (or a
    # test) can search one line for the field.
    err.print(Text.assemble(("error:", "bold red"), " ", printable(str(error))), highlight=False, soft_wrap=True)
    raise typer.Exit(error.exit_code)


def run(work: Callable[[PeerReviewClient], Awaitable[T]]) -> T:
    async def connected() -> T:
        return await work(await PeerReviewClient.connect(Settings()))

    try:
        return asyncio.run(connected())
    except ReviewError as error:
        fail(error)


def describe_validation(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(message if message.split(":")[0] in field.split(".") or ": " in message else f"{field}: {message}")
    return "; ".join(lines)


def load(model: type[M], source: str) -> M:
    """Read and validate a payload file; any problem exits 2 naming the field, before anything starts."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        fail(InvalidInput(f"{source}: {error.strerror}"))
    except UnicodeDecodeError as error:
        fail(InvalidInput(f"{source}: not UTF-8 text (byte {error.start})"))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        fail(InvalidInput(f"{source}: not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"))
    except RecursionError:
        fail(InvalidInput(f"{source}: not valid JSON: nested too deeply"))
    except ValueError:  # Python refuses to convert integers of more than 4300 digits
        fail(InvalidInput(f"{source}: not valid JSON: a number has too many digits"))
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fail(InvalidInput(describe_validation(error)))


def checked_ref(referral_id: str) -> str:
    if not IDENTIFIER.fullmatch(referral_id):
        fail(InvalidInput(f"REF: {referral_id!r} is not a referral id (letters, digits, '.', '_' or '-')"))
    return referral_id


def emit_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


# What `status` shows without `--as`: where the review stands, nothing about who or why.
SUMMARY_FIELDS = ("referral_id", "status", "stage", "outcome", "overdue", "deadlines")


def show_status(view: StatusView, *, details: bool = True) -> None:
    table = Table(title=f"Peer Review {view.referral_id}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rows = {
        "Status": view.status.value,
        "Stage": view.stage,
        "Outcome": view.outcome.value if view.outcome else "-",
    }
    if details:
        rows |= {
            "Mandatory": {True: "yes", False: "no", None: "-"}[view.mandatory],
            "Priority": view.priority.value if view.priority else "-",
            "OSN": view.osn,
            "Chair": view.chair or "-",
            "Reviewer": view.reviewer or "-",
            "Reasons": ", ".join(reason.value for reason in view.reasons) or "-",
        }
    rows["Overdue"] = "YES" if view.overdue else "no"
    rows["Journey stages"] = ", ".join(view.journey_stages) or "-"
    for deadline in view.deadlines:
        rows[f"Due ({deadline.status.value})"] = deadline.due_at.isoformat(timespec="minutes")
    for key, value in rows.items():
        table.add_row(key, value)
    out.print(table)


def show_related(related: list[RelatedReview] | None) -> None:
    """One line per other review of the same case or customer: ids, dates and outcomes only."""
    if not related:
        return
    for item in related:
        same = " and ".join(part.replace("_", " ") for part in item.same)
        closed = f", closed {item.closed_at:%Y-%m-%d}" if item.closed_at else ""
        outcome = item.outcome.value if item.outcome else item.status.value
        out.print(
            f"[yellow]Related:[/] {item.referral_id} (same {same}): {outcome}, referred {item.referred_at:%Y-%m-%d}"
            f"{closed}",
            highlight=False,
        )


# One update id per run unless --request-id says otherwise: a retry inside this run is the same request.
RUN_REQUEST_ID = str(uuid.uuid4())


def act(
    referral_id: str, action: ActionName, payload: ActionPayload, as_json: bool, request_id: str | None = None
) -> None:
    """Run an action, proven with the operator's signing key ("operator <OS user> for <--as>" in the record)."""
    request = request_id or RUN_REQUEST_ID
    view = run(lambda reviews: reviews.act(checked_ref(referral_id), action, payload, request_id=request))
    if as_json:
        emit_json(view.model_dump(mode="json"))
    else:
        out.print(f"[green]{action.value.replace('_', ' ')}: done[/]")
        show_status(view)


def payload(model: type[M], **fields: Any) -> M:
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        fail(InvalidInput(describe_validation(error)))
