"""On PostgreSQL, which enforces column sizes: what a client sends can neither wedge a review's records nor get
into them, and a batch the database refuses for good stops retrying at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationDesk
from activities.records import RECORD_REJECTED, RecordActivities
from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import (
    AuditEvent,
    Decision,
    FindingsSubmission,
    RecordBatch,
    ReviewerAssignment,
    Status,
    StatusView,
)
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient, workflow_id
from peer_review.temporal.key_rings import load_chain_ring
from peer_review.temporal.proofs import with_sealed_headers
from tests.helpers import (
    TEST_KEY_FILE,
    chain_keys,
    findings,
    new_worker,
    postgres_alone,
    postgres_url,
    refer_triaged,
    referral,
)

LONG_ACTION = "a" * 64


@pytest.fixture
async def pg_store() -> AsyncIterator[RecordsStore]:
    store = RecordsStore.from_url(postgres_url())
    async with postgres_alone():  # the review runs on a shared database: one test at a time
        await store.create_schema()
        yield store
    await store.close()


async def test_a_64_character_action_cannot_wedge_a_review(
    client: Client, settings: Settings, pg_store: RecordsStore
) -> None:
    settings = settings.model_copy(update={"records_url": postgres_url()})
    reviews = PeerReviewClient(client, settings)
    raw = with_sealed_headers(client)  # has the codec, not the signing key
    async with new_worker(client, settings, pg_store):
        ref = await refer_triaged(reviews, "complex-issue")
        handle = raw.get_workflow_handle(workflow_id(ref))
        # The signal that used to write "<action>_rejected" (73 characters) into a 64-character column is gone ...
        await handle.signal("refused_action", {"actor": "S100", "action": LONG_ACTION, "kind": "", "reason": "x"})
        # ... an update of any name needs a handler and a proof ...
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(LONG_ACTION, Decision(actor="S100"))
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update("approve", Decision(actor="S100", rationale=LONG_ACTION))
        # ... and the proven path writes only the enum's names, however long the text beside them.
        await reviews.act(ref, ActionName.APPROVE, Decision(actor="S100", rationale="x" * 10_000))
        await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor="S100", reviewer="S400"))
        submission = FindingsSubmission(actor="S400", findings=findings())
        await reviews.act(ref, ActionName.SUBMIT_FINDINGS, submission)
        view = await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor="S100"))
        assert view.status is Status.CLOSED
        await handle.result()  # closes only once every record is written
        trail = await reviews.audit_trail(ref)
    record = await pg_store.audit_record(ref)
    assert record is not None and record.verify(chain_keys()).valid
    assert [row.event for row in record.events] == trail
    assert all(len(row.event.action) <= 64 and "a" * 20 not in row.event.action for row in record.events)


async def test_a_batch_the_database_refuses_for_good_is_not_retried(pg_store: RecordsStore) -> None:
    """Such a batch cannot come from the workflow (the checks above); if one ever did, the activity says so at once
    with a non-retryable error, which the workflow counts (peer_review_records_stuck) for PeerReviewRecordsStuck."""
    r = referral("persistent")
    settings = Settings(key_file=TEST_KEY_FILE)
    ring = load_chain_ring(settings)
    desk = NotificationDesk(
        directory=settings.directory, internal_domains=settings.internal_domains, mailer_configured=False
    )
    batch = RecordBatch(
        referral=r,
        view=StatusView(
            referral_id=r.referral_id,
            status=Status.TRIAGE,
            stage="triage",
            outcome=None,
            mandatory=None,
            osn=r.osn,
            priority=None,
            chair=None,
            reviewer=None,
        ),
        events=[
            AuditEvent(
                seq=1,
                at=datetime.now(UTC),
                actor="S" * 65,  # one over the column
                action="referred",
                from_status=None,
                to_status=Status.REFERRED,
            )
        ],
    )
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(RecordActivities(pg_store, ring, desk).record_batch, batch)
    assert refused.value.type == RECORD_REJECTED and refused.value.non_retryable
