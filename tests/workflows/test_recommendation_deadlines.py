"""A tracked recommendation's reminder and escalations on the time-skipping server, in working days across the
Christmas bank holidays."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.models import (
    AuditEvent,
    RecommendationStatus,
    recommendation_id,
    recommendation_workflow_id,
)
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from tests.helpers import EXAMPLES, TEST_KEY_FILE, new_worker, skipping_reviews
from tests.helpers.recommendations import signed_off, tracked

# Signed off at 10:00 on a day before Christmas, a local recommendation has ten working days to be decided.
# 2026, from Thursday 17 Dec: 18, 21, 22, 23, 24, 29, 30, 31 Dec, 4, 5 Jan (25 Dec, 28 Dec for Boxing Day and
# 1 Jan are bank holidays): due Tuesday 5 Jan 2027, reminded a working day before, on Monday 4 Jan; escalated
# again ten working days after the due day: 6, 7, 8, 11, 12, 13, 14, 15, 18, 19 Jan.
# 2027, from Friday 17 Dec: 20, 21, 22, 23, 24, 29, 30, 31 Dec, 4, 5 Jan (27 and 28 Dec for Christmas and
# Boxing Day, 3 Jan 2028 for New Year's Day): due Wednesday 5 Jan 2028, reminded Tuesday 4 Jan; escalated
# again 6, 7, 10, 11, 12, 13, 14, 17, 18, 19 Jan.
# (signed off, reminder, due, second escalation, a day to look at the record after which no more alarm is due)
CHRISTMAS = {
    2026: ("2026-12-17", "2027-01-04", "2027-01-05", "2027-01-19", "2027-01-25"),
    2027: ("2027-12-17", "2028-01-04", "2028-01-05", "2028-01-19", "2028-01-25"),
}


@pytest.fixture
async def skipping_stack(
    skipping_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[tuple[Settings, RecordsStore]]:
    """The worker's settings (a fresh queue) and its records store, for the time-skipping server."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    store = RecordsStore.from_url(url)
    await store.create_schema()
    yield (
        Settings(
            records_url=url,
            directory=EXAMPLES / "directory.yaml",
            key_file=TEST_KEY_FILE,
            task_queue=f"tq-{uuid.uuid4()}",
        ),
        store,
    )
    await store.close()


def at_ten(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)


async def trail_of(client: Client, rec_id: str) -> list[AuditEvent]:
    handle = client.get_workflow_handle(recommendation_workflow_id(rec_id))
    events: list[AuditEvent] = await handle.query("audit_trail", result_type=list[AuditEvent])
    return events


async def test_reminder_and_escalations_of_a_recommendation_fall_on_working_days_across_christmas(
    skipping_env: WorkflowEnvironment, skipping_stack: tuple[Settings, RecordsStore]
) -> None:
    settings, store = skipping_stack
    now = await skipping_env.get_current_time()
    year = next(y for y in sorted(CHRISTMAS) if at_ten(CHRISTMAS[y][0]) > now)
    signed, reminder_day, due_day, second_escalation_day, look_day = CHRISTMAS[year]
    await skipping_env.sleep(at_ten(signed) - now)
    reviews = skipping_reviews(skipping_env, settings)
    async with new_worker(skipping_env.client, settings, store):
        r = await signed_off(reviews)
        local = recommendation_id(r.referral_id, 1)
        view = await tracked(reviews, local)
        assert view.status is RecommendationStatus.PROPOSED
        assert view.due_at is not None and view.due_at.date().isoformat() == due_day
        await skipping_env.sleep(at_ten(look_day) - await skipping_env.get_current_time())
        trail = await trail_of(skipping_env.client, local)
        assert [(e.action, e.at.date().isoformat()) for e in trail if e.action in ("reminder", "escalated")] == [
            ("reminder", reminder_day),
            ("escalated", due_day),
            ("escalated", second_escalation_day),
        ]
        assert (await reviews.recommendation(local)).overdue is True
        sent = [
            (e.detail.split(":")[0], e.at.date().isoformat())
            for e in trail
            if e.action == "notification_sent"
            and e.detail
            and e.detail.startswith(("recommendation_reminder", "recommendation_escalation"))
        ]
        # The owner's contact is reminded; the OSN Chair and deputy are told first, then the national lead and
        # the Focal Point too.
        assert sorted(sent) == sorted(
            [
                ("recommendation_reminder to S302", reminder_day),
                ("recommendation_escalation to S100", due_day),
                ("recommendation_escalation to S101", due_day),
                ("recommendation_escalation to S100", second_escalation_day),
                ("recommendation_escalation to S101", second_escalation_day),
                ("recommendation_escalation to S600", second_escalation_day),
                ("recommendation_escalation to S200", second_escalation_day),
            ]
        )
