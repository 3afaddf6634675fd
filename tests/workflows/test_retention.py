"""The retention workflow on the real worker, on SQLite and PostgreSQL: a review past retention is disposed of and
certified, a held one is kept until released, and a crash mid-disposal resumes without loss or double counting."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client

from peer_review.domain.register import EntryKind
from peer_review.domain.retention import DisposalBatch, RetentionRequest
from peer_review.records import retention
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from tests.helpers import chain_key, chain_keys, new_worker
from tests.helpers.retention import (
    RetentionStack,
    closed_review,
    past_retention_at_once,
    records_database,
    run_retention,
)

DATABASES = ["sqlite", "postgres"]


async def events_of(store: RecordsStore, referral_id: str) -> int:
    record = await store.audit_record(referral_id)
    assert record is not None
    return len(record.events)


@pytest.fixture(params=DATABASES)
async def stack(
    request: pytest.FixtureRequest, client: Client, settings: Settings, tmp_path: Path
) -> AsyncIterator[RetentionStack]:
    """A fresh records database of each kind, past retention at once."""
    async with (
        records_database(request.param, tmp_path) as url,
        past_retention_at_once(client, settings, url) as retention_stack,
    ):
        yield retention_stack


async def test_past_retention_is_disposed_and_certified_and_a_held_one_waits_for_its_release(
    client: Client, stack: RetentionStack
) -> None:
    settings, store, reviews = stack.settings, stack.store, stack.reviews
    async with new_worker(client, settings, store):
        gone, held = await closed_review(reviews, store), await closed_review(reviews, store)
        gone_events = await events_of(store, gone)
        await retention.change_hold(
            store, held, hold=True, actor="S500", reason="Coroner's inquest", proven_by="test",
            at=datetime.now(UTC), chain_key=chain_key(),
        )  # fmt: skip

        # As at an hour ago, neither review had closed: nothing goes.
        earlier = await run_retention(client, settings, RetentionRequest(now=datetime.now(UTC) - timedelta(hours=1)))
        assert earlier.reviews == 0
        dry = await run_retention(client, settings, RetentionRequest(dry_run=True))
        assert (dry.reviews, dry.would_dispose) == (1, [gone])
        assert await store.audit_record(gone) is not None  # a dry run destroys nothing

        result = await run_retention(client, settings, RetentionRequest())
        assert (result.reviews, result.audit_events) == (1, gone_events)
        assert result.notifications >= 1
        assert await store.audit_record(gone) is None
        certificate = await retention.certificate_of(store, gone)
        assert certificate is not None
        assert certificate.entry.document["destroyed"]["audit_events"] == gone_events
        assert certificate.entry.document["outcome"] == "withdrawn"
        assert certificate.entry.document["chain_valid_at_disposal"] is True
        assert await retention.verify_certificate(store, certificate, chain_keys()) is None
        assert await store.audit_record(held) is not None  # held: kept

        # Run again: idempotent, the held review still kept.
        assert (await run_retention(client, settings, RetentionRequest())).reviews == 0

        await retention.change_hold(
            store, held, hold=False, actor="S200", reason="Inquest closed", proven_by="test",
            at=datetime.now(UTC), chain_key=chain_key(),
        )  # fmt: skip
        released = await run_retention(client, settings, RetentionRequest())
        assert released.reviews == 1
        assert await store.audit_record(held) is None
        kinds = [e.entry.kind for e in await retention.register_entries(store, held)]
        assert kinds == [EntryKind.HOLD, EntryKind.RELEASE, EntryKind.DISPOSAL]

    report = await retention.verify_all(store, chain_keys())
    assert report.valid, report.problems
    assert (report.certificates, report.certificates_valid, report.register_entries) == (2, 2, 4)


async def test_a_crash_mid_disposal_resumes_without_loss_or_double_counting(
    client: Client, stack: RetentionStack
) -> None:
    settings, store, reviews = stack.settings, stack.store, stack.reviews
    async with new_worker(client, settings, store):
        ids = [await closed_review(reviews, store) for _ in range(3)]
        total_events = sum([await events_of(store, ref) for ref in ids])
        run_id = f"retention-crash-{uuid.uuid4().hex[:8]}"
        now = datetime.now(UTC)
        # The first attempt of a batch committed one disposal, and its worker died before reporting it.
        first_batch = DisposalBatch(now=now, run=run_id, limit=1)
        committed = await retention.dispose_batch(
            store, first_batch, cutoff=now, chain_key=chain_key(), chain_keys=chain_keys()
        )
        assert committed == 1
        result = await run_retention(client, settings, RetentionRequest(now=now), run_id=run_id)
    assert (result.reviews, result.audit_events) == (3, total_events)
    entries = await retention.register_entries(store)
    assert sorted(e.entry.referral_id for e in entries if e.entry.kind is EntryKind.DISPOSAL) == sorted(ids)
    assert (await retention.verify_all(store, chain_keys())).valid
