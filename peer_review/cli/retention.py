"""Retention commands: legal holds (`hold`, `release`) and the retention schedule and runs (`retention apply|run`).

A hold or release is written straight to the records database, with its entry in the keyed retention register: it
applies to a review whatever its status, closed ones above all, whose workflow history Temporal may long have
deleted. Who may hold is peer_review.domain.lifecycle's (RECORD_RULES).
"""

from __future__ import annotations

import getpass
import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from peer_review.cli.common import Actor, JsonFlag, Ref, checked_ref, emit_json, fail, out, run
from peer_review.cli.reading import read_records, reader
from peer_review.domain.audit_chain import ChainKey
from peer_review.domain.lifecycle import RecordAction, Rejection, check_record_action
from peer_review.domain.proofs import os_user_name
from peer_review.domain.retention import RetentionRequest
from peer_review.settings import Settings
from peer_review.temporal.client import ActionRejected, InvalidInput, ReferralNotFound, ReviewError
from peer_review.temporal.codec import KeyRingError
from peer_review.temporal.key_rings import load_chain_ring

retention_app = typer.Typer(help="The retention schedule and runs: records past retention are disposed of.")

Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the retention register).", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("hold")(hold)
    app.command("release")(release)
    app.add_typer(retention_app, name="retention")


def hold(ref: Ref, reason: Reason, actor: Actor, as_json: JsonFlag = False) -> None:
    """Place a legal hold on a review: its record is never disposed of until released (Focal Point, auditors)."""
    change_hold(ref, reason, actor, as_json, RecordAction.HOLD)


def release(ref: Ref, reason: Reason, actor: Actor, as_json: JsonFlag = False) -> None:
    """Release a legal hold: the record is disposed of once past retention (Focal Point, auditors)."""
    change_hold(ref, reason, actor, as_json, RecordAction.RELEASE)


def change_hold(ref: str, reason: str, actor: str, as_json: bool, action: RecordAction) -> None:
    from peer_review.records.retention import Disposed, NoSuchReview, change_hold

    checked_ref(ref)
    if not reason.strip():
        fail(InvalidInput("--reason: required"))
    person = reader(actor)
    try:
        check_record_action(action, actor, person.roles)
    except Rejection as rejection:
        fail(ActionRejected(rejection.reason, rejection.kind))
    chain_key = _sealing_key()

    proven_by = f"operator {os_user_name(getpass.getuser())} for {actor}"
    try:
        change = read_records(
            lambda store: change_hold(
                store,
                ref,
                hold=action is RecordAction.HOLD,
                actor=actor,
                reason=reason.strip(),
                proven_by=proven_by,
                at=datetime.now(UTC),
                chain_key=chain_key,
            )
        )
    except Disposed as disposed:
        fail(ReferralNotFound(str(disposed)))
    except NoSuchReview:
        fail(ReferralNotFound(f"no records for referral {ref}"))
    except Rejection as rejection:
        fail(ActionRejected(rejection.reason, rejection.kind))
    if as_json:
        emit_json({"referral_id": ref, "held": change.held, "register_seq": change.entry.entry.seq})
    else:
        out.print(
            f"[green]{ref}: {'held' if change.held else 'hold released'}[/] (register entry {change.entry.entry.seq})"
        )


def _sealing_key() -> ChainKey:
    try:
        ring = load_chain_ring(Settings())
    except KeyRingError as error:
        fail(ReviewError(f"cannot seal the retention register: {error}"))
    return ChainKey(ring.newest, ring.keys[ring.newest])


@retention_app.command("apply")
def apply(as_json: JsonFlag = False) -> None:
    """Create the daily retention schedule, or bring it up to date (idempotent)."""
    from peer_review.temporal.retention_schedule import apply_schedule

    settings = Settings()
    done = run(lambda reviews: apply_schedule(reviews.system, settings))
    if as_json:
        emit_json({"schedule": "peer-review-retention", "result": done, "retention_years": settings.retention_years})
    else:
        out.print(f"Retention schedule {done}: daily; records kept {settings.retention_years} years after closure.")


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(InvalidInput(f"--now: {value!r} is not an ISO 8601 date and time"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@retention_app.command("run")
def run_now(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would go; destroy nothing.")] = False,
    now: Annotated[
        str | None, typer.Option("--now", help="Run as at this earlier moment (ISO 8601); never a later one.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the retention workflow now and wait for its counts (the schedule runs it daily)."""
    from peer_review.temporal.retention_schedule import run_retention

    settings = Settings()
    request = RetentionRequest(dry_run=dry_run, now=_moment(now))
    run_id = f"peer-review-retention-manual-{uuid.uuid4().hex[:12]}"
    result = run(lambda reviews: run_retention(reviews.system, settings, request, run_id))
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    verb = "would dispose of" if result.dry_run else "disposed of"
    out.print(
        f"Retention {'dry run' if result.dry_run else 'run'} {result.run}: closed before {result.cutoff:%Y-%m-%d}"
    )
    out.print(f"{verb} {result.reviews} review(s)")
    if result.dry_run:
        for referral_id in result.would_dispose:
            out.print(f"  {referral_id}")
        return
    table = Table(title="Rows destroyed", title_justify="left", show_header=False)
    for kind in ("audit_events", "notifications", "access_log", "recommendations"):
        table.add_row(kind.replace("_", " "), str(getattr(result, kind)))
    out.print(table)
