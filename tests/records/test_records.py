"""Record-keeping against SQLite and, when PEER_REVIEW_TEST_POSTGRES_URL is set, PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from peer_review.domain.audit_chain import GENESIS, ChainKey, canonical
from peer_review.domain.models import (
    QUEUED,
    AuditEvent,
    Outcome,
    Reason,
    RecordBatch,
    Status,
    StatusView,
    message_detail,
    settle,
)
from peer_review.records import read_model
from peer_review.records.outbox import Attempt, OutboxEntry, outbox_statuses, save_outbox
from peer_review.records.schema import audit_events, notifications, recommendations, referrals
from peer_review.records.store import RecordsStore, as_utc
from tests.helpers import (
    chain_key,
    chain_keys,
    findings,
    postgres_alone,
    postgres_url,
    queued_message,
    recorded_awaiting_chair,
    referral,
)

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
async def records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RecordsStore]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}" if request.param == "sqlite" else postgres_url()
    assert url
    store = RecordsStore.from_url(url)
    async with postgres_alone() if request.param == "postgresql" else nullcontext():
        await store.create_schema()
        yield store
    await store.close()


def events(count: int, start: int = 1) -> list[AuditEvent]:
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    return [
        AuditEvent(
            seq=seq,
            at=at + timedelta(seconds=seq, microseconds=123),
            actor="S100",
            action=f"action-{seq}",
            from_status=Status.TRIAGE,
            to_status=Status.AWAITING_CHAIR_DECISION,
            detail="détail ✓",
        )
        for seq in range(start, start + count)
    ]


def batch(ref_id: str, items: list[AuditEvent], outcome: Outcome | None = None) -> RecordBatch:
    r = referral("complex-issue", referral_id=ref_id)
    view = StatusView(
        referral_id=ref_id,
        status=Status.CLOSED if outcome else Status.AWAITING_CHAIR_DECISION,
        stage="closure" if outcome else "chair decision",
        outcome=outcome,
        mandatory=False,
        osn=r.osn,
        priority=None,
        chair="S100",
        reviewer=None,
    )
    return RecordBatch(referral=r, view=view, events=items, findings=findings() if outcome else None)


def new_id() -> str:
    return f"R-{uuid.uuid4().hex[:10]}"


async def test_a_retried_batch_never_duplicates_a_row(records: RecordsStore) -> None:
    ref = new_id()
    assert (await records.write_batch(batch(ref, events(3)), chain_key())).added == 3
    assert (await records.write_batch(batch(ref, events(3)), chain_key())).added == 0
    assert (await records.write_batch(batch(ref, events(4)), chain_key())).added == 1  # overlaps the first batch
    record = await records.audit_record(ref)
    assert record is not None
    assert [row.event.seq for row in record.events] == [1, 2, 3, 4]
    assert record.verify(chain_keys()).valid
    assert record.events[0].event == events(1)[0]  # times and text survive the round trip exactly


async def test_a_gap_in_the_sequence_is_refused(records: RecordsStore) -> None:
    ref = new_id()
    await records.write_batch(batch(ref, events(2)), chain_key())
    with pytest.raises(RuntimeError, match="audit gap"):
        await records.write_batch(batch(ref, events(1, start=4)), chain_key())


def later(ref_id: str, items: list[AuditEvent], status: Status) -> RecordBatch:
    """A batch after the first: it carries the view, not the referral."""
    first = batch(ref_id, items)
    return first.model_copy(update={"referral": None, "view": first.view.model_copy(update={"status": status})})


async def _projection(records: RecordsStore, ref_id: str) -> tuple[str, int] | None:
    async with records.transaction() as connection:
        row = (
            await connection.execute(
                select(referrals.c.status, referrals.c.last_seq).where(referrals.c.referral_id == ref_id)
            )
        ).first()
    return (row.status, row.last_seq) if row else None


async def test_a_later_batch_moves_the_projection_and_an_older_one_arriving_late_leaves_it(
    records: RecordsStore,
) -> None:
    ref = new_id()
    await records.write_batch(batch(ref, events(2)), chain_key())
    await records.write_batch(later(ref, events(2, start=3), Status.AWAITING_REVIEWER), chain_key())
    assert await _projection(records, ref) == ("awaiting_reviewer", 4)
    # The first move's batch again (a retry that lost the race): its events are there, its view is out of date.
    assert (await records.write_batch(later(ref, events(2), Status.AWAITING_CHAIR_DECISION), chain_key())).added == 0
    assert await _projection(records, ref) == ("awaiting_reviewer", 4)


async def test_a_later_batch_whose_first_is_missing_is_refused_and_writes_nothing(records: RecordsStore) -> None:
    ref = new_id()
    with pytest.raises(RuntimeError, match="missing their first batch"):
        await records.write_batch(later(ref, events(2), Status.AWAITING_REVIEWER), chain_key())
    assert await _projection(records, ref) is None
    assert await records.audit_record(ref) is None


async def test_recommendations_are_registered_once_when_the_review_completes(records: RecordsStore) -> None:
    ref = new_id()
    await records.write_batch(batch(ref, events(2)), chain_key())
    await records.write_batch(batch(ref, events(1, start=3), Outcome.COMPLETED), chain_key())
    await records.write_batch(batch(ref, events(1, start=3), Outcome.COMPLETED), chain_key())
    async with records.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(recommendations.c.level, recommendations.c.owner).where(recommendations.c.referral_id == ref)
            )
        ).all()
    assert sorted(rows) == [("local", "T-LEEDS-COMPLAINTS"), ("national", "T-COMPLAINTS-POLICY")]


async def test_a_reviews_record_lists_its_recommendations_in_the_order_of_its_findings(records: RecordsStore) -> None:
    # The register puts the soonest due first; one review's record (its export, its page) follows its findings,
    # whichever of the review's recommendation workflows wrote its row first.
    ref = new_id()
    await records.write_batch(batch(ref, events(2)), chain_key())
    await records.write_batch(batch(ref, events(1, start=3), Outcome.COMPLETED), chain_key())
    soon = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    async with records.transaction() as connection:
        for position, due in ((1, soon + timedelta(days=30)), (2, soon)):
            await connection.execute(
                update(recommendations)
                .where(recommendations.c.referral_id == ref, recommendations.c.position == position)
                .values(due_at=due)
            )
    register = await read_model.recommendation_register(records, referral_id=ref)
    assert [entry.level for entry in register] == ["national", "local"]
    record = await read_model.review_record(records, ref)
    assert record is not None
    assert [entry.level for entry in record.recommendations] == ["local", "national"]


def with_messages(ref_id: str, items: list[AuditEvent], *steps: str) -> tuple[RecordBatch, list[Attempt]]:
    """A batch whose last events are messages the workflow queued, one per step, and their first attempts: the
    first kept in the outbox, the others refused (what NotificationDesk decides)."""
    at = items[-1].at if items else datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    requests = []
    for offset, step in enumerate(steps, start=items[-1].seq + 1 if items else 1):
        items.append(
            AuditEvent(
                seq=offset,
                at=at,
                actor="system",
                action=QUEUED,
                from_status=None,
                to_status=None,
                detail=message_detail(step, "S100"),
            )
        )
        requests.append(queued_message(offset, step, "S100", ref_id))
    attempts = [
        Attempt(
            OutboxEntry(r.idempotency_key, ref_id, "S100", "ann.chair@example.gov.uk", r.step, "subject", "body"),
            "outbox" if position == 0 else "refused",
            "recorded in the outbox" if position == 0 else "refused: recipient is outside the internal domains",
        )
        for position, r in enumerate(requests)
    ]
    return batch(ref_id, items).model_copy(update={"notifications": requests}), attempts


async def test_a_moves_messages_are_written_and_settled_in_its_transaction(records: RecordsStore) -> None:
    ref = new_id()
    moved, messages = with_messages(ref, events(2), "decision_needed", "referral_approved")
    written = await records.write_batch(moved, chain_key(), messages)
    assert written.added == 4
    assert [(o.delivered, o.audit_action) for o in written.outcomes] == [
        (True, "notification_sent"),
        (False, "notification_refused"),
    ]
    record = await records.audit_record(ref)
    assert record is not None and record.verify(chain_keys()).valid
    # The record holds the settled events, exactly as the workflow keeps them after the write.
    assert [row.event for row in record.events] == settle(moved.events, moved.notifications, written.outcomes)
    assert [row.event.detail for row in record.events][2:] == [
        "decision_needed to S100: recorded in the outbox",
        "referral_approved to S100: refused: recipient is outside the internal domains",
    ]
    statuses = await outbox_statuses(records, [m.entry.idempotency_key for m in messages])
    assert sorted(statuses.values()) == ["outbox", "refused"]


async def test_a_retried_write_reports_the_outcomes_it_wrote_the_first_time(records: RecordsStore) -> None:
    ref = new_id()
    moved, messages = with_messages(ref, events(1), "decision_needed")
    first = await records.write_batch(moved, chain_key(), messages)
    # The retry decides differently (the directory changed meanwhile); the row written first stands.
    changed = [Attempt(m.entry, "refused", "refused: recipient not in the staff directory") for m in messages]
    again = await records.write_batch(moved, chain_key(), changed)
    assert again.added == 0 and again.outcomes == first.outcomes
    assert await outbox_statuses(records, [m.entry.idempotency_key for m in messages]) == {
        messages[0].entry.idempotency_key: "outbox"
    }


async def test_a_write_that_fails_leaves_no_message_behind(records: RecordsStore) -> None:
    ref = new_id()
    await records.write_batch(batch(ref, events(1)), chain_key())
    # Events 3 and 4 after 1: the audit gap fails the transaction, and the message's row goes with it.
    gapped, messages = with_messages(ref, events(1, start=3), "decision_needed")
    with pytest.raises(RuntimeError, match="audit gap"):
        await records.write_batch(gapped, chain_key(), messages)
    assert await outbox_statuses(records, [m.entry.idempotency_key for m in messages]) == {}


async def test_outbox_keeps_one_row_per_idempotency_key(records: RecordsStore) -> None:
    entry = OutboxEntry(f"k-{uuid.uuid4().hex}", new_id(), "S100", "a@example.gov.uk", "step", "s", "b")
    other = OutboxEntry(f"k-{uuid.uuid4().hex}", entry.referral_id, "S200", "b@example.gov.uk", "step", "s", "b")
    await save_outbox(records, [Attempt(entry, "retrying", "down"), Attempt(other, "outbox", "kept")])
    await save_outbox(records, [Attempt(entry, "sent", "ok")])
    statuses = await outbox_statuses(records, [entry.idempotency_key, other.idempotency_key, "never-tried"])
    assert statuses == {entry.idempotency_key: "sent", other.idempotency_key: "outbox"}
    async with records.engine.connect() as connection:
        attempts = (
            await connection.execute(
                select(notifications.c.attempts).where(notifications.c.idempotency_key == entry.idempotency_key)
            )
        ).scalar_one()
    assert attempts == 2


@asynccontextmanager
async def as_the_database_owner(records: RecordsStore) -> AsyncIterator[AsyncConnection]:
    """A transaction in which audit rows can be changed directly, as a database owner could: on PostgreSQL the
    append-only trigger refuses plain tampering (tested below), so it is switched off for the transaction."""
    async with records.transaction() as connection:
        trigger = connection.dialect.name == "postgresql"
        if trigger:
            await connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        yield connection
        if trigger:
            await connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))


@pytest.mark.parametrize("tamper", ["edit", "delete_middle", "delete_last", "reorder"])
async def test_tampering_is_detected(records: RecordsStore, tamper: str) -> None:
    ref = new_id()
    await records.write_batch(batch(ref, events(4)), chain_key())
    where = audit_events.c.referral_id == ref
    async with as_the_database_owner(records) as connection:
        if tamper == "edit":
            await connection.execute(update(audit_events).where(where, audit_events.c.seq == 2).values(actor="S999"))
        elif tamper == "delete_middle":
            await connection.execute(delete(audit_events).where(where, audit_events.c.seq == 2))
        elif tamper == "delete_last":
            await connection.execute(delete(audit_events).where(where, audit_events.c.seq == 4))
        else:
            await connection.execute(update(audit_events).where(where, audit_events.c.seq == 2).values(seq=-2))
            await connection.execute(update(audit_events).where(where, audit_events.c.seq == 3).values(seq=2))
            await connection.execute(update(audit_events).where(where, audit_events.c.seq == -2).values(seq=3))
    record = await records.audit_record(ref)
    assert record is not None
    check = record.verify(chain_keys())
    assert not check.valid
    assert check.broken_at_seq in (2, 3, 4)


# Runs wherever PEER_REVIEW_TEST_POSTGRES_URL is set, as .ci/run does.
@pytest.mark.parametrize("url", [postgres_url()])
async def test_postgresql_refuses_to_update_or_delete_audit_rows(url: str) -> None:
    records = RecordsStore.from_url(url)
    async with postgres_alone():
        await records.create_schema()
    try:
        ref = new_id()
        await records.write_batch(batch(ref, events(2)), chain_key())
        for change in (
            update(audit_events).where(audit_events.c.referral_id == ref).values(actor="S999"),
            delete(audit_events).where(audit_events.c.referral_id == ref),
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with records.transaction() as connection:
                    await connection.execute(change)
        record = await records.audit_record(ref)
        assert record is not None and len(record.events) == 2 and record.verify(chain_keys()).valid
    finally:
        await records.close()


async def test_a_rewrite_rehashed_with_the_public_algorithm_is_detected(records: RecordsStore) -> None:
    """The database owner rewrites a row and recomputes every hash with plain SHA-256: each link still
    follows the one before, but without the chain key (held by the worker and auditors) the MACs cannot be made."""
    ref = new_id()
    await records.write_batch(batch(ref, events(5)), chain_key())
    where = audit_events.c.referral_id == ref
    async with as_the_database_owner(records) as connection:
        rows = (await connection.execute(select(audit_events).where(where).order_by(audit_events.c.seq))).all()
        previous = GENESIS
        for row in rows:
            event = AuditEvent(
                seq=row.seq,
                at=as_utc(row.at),
                actor=row.actor,
                action=row.action,
                from_status=row.from_status,
                to_status=row.to_status,
                detail="nothing happened" if row.seq == 2 else row.detail,
                proven_by=row.proven_by,
            )
            digest = hashlib.sha256(canonical(ref, event, previous)).hexdigest()
            await connection.execute(
                update(audit_events)
                .where(where, audit_events.c.seq == row.seq)
                .values(detail=event.detail, previous_hash=previous, hash=digest)
            )
            previous = digest
    record = await records.audit_record(ref)
    assert record is not None and record.events[1].event.detail == "nothing happened"
    # An unkeyed chain would have passed: every row follows the one before and matches its plain hash.
    assert all(
        row.hash == hashlib.sha256(canonical(ref, row.event, row.previous_hash)).hexdigest()
        and row.previous_hash == (record.events[n - 1].hash if n else GENESIS)
        for n, row in enumerate(record.events)
    )
    check = record.verify(chain_keys())
    # The first row rehashed without the key is the first the keyed check refuses.
    assert not check.valid and check.broken_at_seq == 1 and "altered" in (check.problem or "")


async def test_every_row_names_the_chain_key_that_sealed_it(records: RecordsStore) -> None:
    ref = new_id()
    await records.write_batch(batch(ref, events(2)), chain_key())
    rotated = ChainKey("k9-rotated", b"r" * 32)
    await records.write_batch(batch(ref, events(2, start=3)), rotated)
    record = await records.audit_record(ref)
    assert record is not None
    assert [row.key_id for row in record.events] == [chain_key().id] * 2 + ["k9-rotated"] * 2
    assert record.verify({**chain_keys(), rotated.id: rotated.secret}).valid
    assert not record.verify(chain_keys()).valid  # the rotated key's rows need it in the ring


async def test_related_reviews_share_a_case_or_customer_reference(records: RecordsStore) -> None:
    unique = uuid.uuid4().hex[:8]
    case, customer = f"CMP-{unique}", f"C-{unique}"

    async def record(**changes: object) -> str:
        ref = new_id()
        r = referral("complex-issue", referral_id=ref, **changes)
        await records.write_batch(batch(ref, events(1)).model_copy(update={"referral": r}), chain_key())
        return ref

    first = await record(case_reference=case, customer={"reference": customer, "additional_needs": False})
    same_customer = await record(
        case_reference=f"CMP-c-{unique}", customer={"reference": customer, "additional_needs": False}
    )
    same_case = await record(case_reference=case, customer={"reference": f"C-c-{unique}", "additional_needs": False})
    await record(case_reference=f"CMP-other-{unique}")
    related = await read_model.related_reviews(
        records, case_reference=case, customer_reference=customer, excluding=first
    )
    assert [(r.referral_id, r.same) for r in related] == [
        (same_customer, ["customer_reference"]),
        (same_case, ["case_reference"]),
    ]
    assert await read_model.related_to(records, "NOT-RECORDED") is None
    around_second = await read_model.related_to(records, same_customer)
    assert around_second is not None and [r.referral_id for r in around_second] == [first]


async def test_reasons_added_during_a_review_reach_the_projection(records: RecordsStore) -> None:
    ref = new_id()
    await records.write_batch(batch(ref, events(1)), chain_key())
    later = batch(ref, events(1, start=2))
    view = later.view.model_copy(update={"reasons": [Reason.COMPLEX_ISSUE, Reason.ADDITIONAL_NEEDS, Reason.SUICIDE]})
    await records.write_batch(later.model_copy(update={"view": view, "referral": None}), chain_key())
    async with records.engine.connect() as connection:
        reasons = (await connection.execute(select(referrals.c.reasons).where(referrals.c.referral_id == ref))).scalar()
    assert reasons == "complex_issue,additional_needs,suicide_or_alleged_suicide"


async def test_a_database_from_before_the_customer_reference_column_is_brought_up_to_date(tmp_path: Path) -> None:
    store = RecordsStore.from_url(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await store.create_schema()
        ref = new_id()
        await store.write_batch(batch(ref, events(1)), chain_key())
        async with store.transaction() as connection:  # as an earlier version left it
            await connection.execute(text("DROP INDEX ix_referrals_customer_reference"))
            await connection.execute(text("ALTER TABLE referrals DROP COLUMN customer_reference"))
        await store.create_schema()
        related = await read_model.related_reviews(
            store, case_reference="none", customer_reference=referral("complex-issue").customer.reference, excluding=""
        )
        assert [r.referral_id for r in related] == [ref]
    finally:
        await store.close()


async def test_list_pages_hold_fifty_rows_count_the_whole_list_and_stop_at_the_last(records: RecordsStore) -> None:
    prefix = new_id()
    osn = f"osn-{prefix}"  # the PostgreSQL database is shared: only this test's reviews are in this OSN
    ids = [f"{prefix}-{n:02d}" for n in range(55)]
    for referral_id in ids:
        await records.write_batch(recorded_awaiting_chair(referral_id, osn), chain_key())
    inbox = [Status.AWAITING_CHAIR_DECISION]
    first = await read_model.awaiting(records, [osn], inbox)
    second = await read_model.awaiting(records, [osn], inbox, page=2)
    past_the_end = await read_model.awaiting(records, [osn], inbox, page=9)
    assert (first.total, first.pages, first.number, first.first, first.last) == (55, 2, 1, 1, 50)
    assert (second.number, second.first, second.last) == (2, 51, 55)
    assert past_the_end.number == 2 and past_the_end.rows == second.rows
    listed = [row.referral_id for row in [*first.rows, *second.rows]]
    assert sorted(listed) == ids  # every review once, none on both pages
    searched = await read_model.search(records, read_model.Search(osn=osn), page=2)
    assert (searched.total, len(searched.rows)) == (55, 5)
    nothing = await read_model.awaiting(records, [f"{osn}-none"], inbox)
    assert (nothing.total, nothing.pages, nothing.rows, nothing.first, nothing.last) == (0, 1, [], 0, 0)
