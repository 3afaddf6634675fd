"""`status --as-of` rebuilt from the record alone matches a hand-written timeline at five moments (the last after
Temporal's history is deleted), and a restore of the records database into an empty PostgreSQL database verifies."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import Decision, FindingsSubmission, ReviewerAssignment, Status
from peer_review.domain.retention import RetentionRequest
from peer_review.domain.working_days import add_working_days
from peer_review.records import retention
from peer_review.records.read_model import as_it_stood_on
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import PeerReviewClient, workflow_id
from tests.helpers import chain_keys, findings, fresh_postgres, new_worker, postgres_url, referral, triaged
from tests.helpers.retention import (
    closed_review,
    past_retention_at_once,
    recorded_status,
    records_database,
    run_retention,
)

DATABASES = ["sqlite", "postgres"]


@pytest.mark.parametrize("database", DATABASES)
async def test_as_of_matches_the_timeline_at_five_moments(
    database: str, client: Client, settings: Settings, tmp_path: Path
) -> None:
    async with records_database(database, tmp_path) as url:
        settings = settings.model_copy(update={"records_url": url})
        store = RecordsStore.from_url(url)
        await store.create_schema()
        reviews = PeerReviewClient(client, settings)
        r = referral("complex-issue")
        ref = r.referral_id
        try:
            async with new_worker(client, settings, store):
                await reviews.refer(r)
                await triaged(reviews, ref)
                await reviews.act(ref, ActionName.APPROVE, Decision(actor="S100", rationale="Check every issue"))
                await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor="S100", reviewer="S400"))
                await reviews.act(
                    ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor="S400", findings=findings())
                )
                await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor="S100"))
                await recorded_status(store, ref, Status.CLOSED)
            record = await store.audit_record(ref)
            assert record is not None
            at = {row.event.action: row.event.at for row in record.events}
            # Temporal's history is gone: everything below comes from the records database alone.
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=client.namespace, workflow_execution=WorkflowExecution(workflow_id=workflow_id(ref))
                )
            )
            tick = timedelta(microseconds=1)
            # The hand-written timeline: (moment, status, chair, reviewer, decisions so far, findings so far, due).
            expected = [
                (at["triaged"], Status.AWAITING_CHAIR_DECISION, None, [], 0, add_working_days(at["triaged"], 5)),
                (at["approve"] + tick, Status.AWAITING_REVIEWER, None, ["approve"], 0,
                 add_working_days(at["approve"], 5)),
                (at["assign_reviewer"], Status.UNDER_REVIEW, "S400", ["approve", "assign_reviewer"], 0,
                 add_working_days(at["assign_reviewer"], 20)),
                (at["submit_findings"], Status.AWAITING_SIGN_OFF, "S400",
                 ["approve", "assign_reviewer", "submit_findings"], 1, add_working_days(at["submit_findings"], 5)),
                (at["sign_off"] + timedelta(days=400), Status.CLOSED, "S400",
                 ["approve", "assign_reviewer", "submit_findings", "sign_off"], 1, None),
            ]  # fmt: skip
            for moment, status, reviewer, decisions, submitted, due in expected:
                view = await as_it_stood_on(store, ref, moment)
                assert view is not None
                assert view.status is status, moment
                assert view.chair == "S100"
                assert view.reviewer == reviewer
                assert [e.action for e in view.decisions] == decisions
                assert len(view.findings_submitted_at) == submitted
                assert (view.deadline.due_at if view.deadline else None) == due
                assert view.overdue is False
            assert view is not None and view.outcome is not None and view.outcome.value == "completed"
            assert view.decisions[0].detail == "Check every issue"
            # Before it was referred there is nothing to show.
            assert await as_it_stood_on(store, ref, at["triaged"] - timedelta(seconds=5)) is None
        finally:
            await store.close()


async def test_a_restore_into_an_empty_postgres_database_verifies(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    base = postgres_url()
    async with fresh_postgres(base) as source_url, fresh_postgres(base) as restored_url:
        async with past_retention_at_once(client, settings, source_url) as stack:
            async with new_worker(client, stack.settings, stack.store):
                await closed_review(stack.reviews, stack.store)
                run_id = f"restore-{uuid.uuid4().hex[:6]}"
                disposed = await run_retention(client, stack.settings, RetentionRequest(), run_id)
                assert disposed.reviews == 1
                await closed_review(stack.reviews, stack.store)  # closed after the run: still recorded
            before = await retention.verify_all(stack.store, chain_keys())
        dump = tmp_path / "records.sql"
        source, target = make_url(source_url), make_url(restored_url)
        common = ["-h", str(source.host), "-p", str(source.port or 5432), "-U", str(source.username)]
        # The runbook's commands: pg_dump the records database, psql it into an empty one.
        await asyncio.to_thread(
            subprocess.run, ["pg_dump", *common, "--no-owner", "-f", str(dump), str(source.database)], check=True
        )
        await asyncio.to_thread(
            subprocess.run,
            ["psql", *common, "-v", "ON_ERROR_STOP=1", "-q", "-f", str(dump), str(target.database)],
            check=True,
            capture_output=True,
        )
        restored = RecordsStore.from_url(restored_url)
        try:
            after = await retention.verify_all(restored, chain_keys())
        finally:
            await restored.close()
        assert after.valid, after.problems
        assert after.as_dict() == before.as_dict()
        assert (after.reviews, after.certificates, after.certificates_valid) == (1, 1, 1)
