"""The action commands (`approve`, `decline`, `assign-reviewer`, ...), one per row of the action table, and
`decide`, the Chair's decision sent as the `chair_decision` signal.

Each command takes the referral id, `--as STAFF`, the action's note (`--rationale`, `--reason`, `--detail`) and
what else the action needs (`--reviewer`, `--reason` to add, a findings file), builds the update's payload and
runs it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer

from peer_review.cli.common import (
    Actor,
    JsonFlag,
    Ref,
    RequestId,
    SourceFile,
    act,
    checked_ref,
    emit_json,
    fail,
    load,
    out,
    payload,
    run,
)
from peer_review.domain.actions import ACTIONS, Action, Input
from peer_review.domain.models import ChairDecision, Findings, Reason
from peer_review.temporal.client import InvalidInput

ReviewerOption = Annotated[str, typer.Option(help="Staff id of the peer reviewer.", show_default=False)]
ReasonOption = Annotated[Reason, typer.Option(help="The reason to add.", show_default=False)]


class Verdict(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"


def register(app: typer.Typer) -> None:
    for action in ACTIONS:
        app.command(action.command, help=action.summary)(command_for(action))
    app.command("decide")(decide)


def decide(
    ref: Ref,
    verdict: Annotated[Verdict, typer.Argument(metavar="approve|decline", help="The decision.", show_default=False)],
    actor: Actor,
    rationale: Annotated[str | None, typer.Option(help="Why (required to decline).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The Chair's decision as a signal (fire and forget): returns as soon as Temporal has accepted it.

    The review then runs the same checks as approve/decline; a refused decision is kept in the audit trail
    (peer-review audit REF), and peer-review status REF shows whether it was applied.
    """
    if verdict is Verdict.DECLINE and not (rationale or "").strip():
        fail(InvalidInput("rationale: a decline needs a rationale"))
    decision = payload(ChairDecision, actor=actor, decision=verdict.value, rationale=rationale)
    run(lambda reviews: reviews.signal_chair_decision(checked_ref(ref), decision))
    if as_json:
        emit_json({"referral_id": ref, "decision": verdict.value, "actor": actor, "sent": True})
        return
    out.print(
        f"[green]Decision sent[/] ({verdict.value}): the review applies it after the same checks as "
        f"`peer-review {verdict.value}`. Whether it did: peer-review status {ref}; a refusal is in "
        f"peer-review audit {ref}.",
        highlight=False,
    )


def _parameters(action: Action) -> list[inspect.Parameter]:
    def parameter(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)

    parameters = [parameter("ref", Ref)]
    if action.needs is Input.FINDINGS:
        parameters.append(parameter("source", SourceFile))
    if action.needs is Input.REVIEWER:
        parameters.append(parameter("reviewer", ReviewerOption))
    if action.needs is Input.REASON:
        parameters.append(parameter("reason", ReasonOption))
    parameters.append(parameter("actor", Actor))
    if action.note is not None:
        note = action.note
        if note.required:
            parameters.append(parameter(note.field, Annotated[str, typer.Option(help=note.help, show_default=False)]))
        else:
            parameters.append(parameter(note.field, Annotated[str | None, typer.Option(help=note.help)], None))
    parameters.append(parameter("request_id", RequestId, None))
    parameters.append(parameter("as_json", JsonFlag, False))
    return parameters


def command_for(action: Action) -> Callable[..., None]:
    """A Typer command for `action`; its options come from the table, so every action reads alike."""

    def command(**options: Any) -> None:
        fields: dict[str, Any] = {"actor": options["actor"]}
        if action.needs is Input.FINDINGS:
            fields["findings"] = load(Findings, options["source"])
        if action.needs is Input.REVIEWER:
            fields["reviewer"] = options["reviewer"]
        if action.needs is Input.REASON:
            fields["reason"] = options["reason"]
        if action.note is not None:
            fields[action.note.field] = options[action.note.field]
        act(options["ref"], action.name, payload(action.payload, **fields), options["as_json"], options["request_id"])

    parameters = _parameters(action)
    # Typer reads a command's options from its signature, so the generated one is given a real signature.
    command.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    command.__name__ = action.name.value
    command.__doc__ = action.summary
    return command
