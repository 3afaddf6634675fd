"""Deadlines, reminders and escalation on the time-skipping server, on real calendar days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from peer_review.domain.lifecycle import ActionName
from peer_review.domain.models import AuditEvent, Decision, Status
from peer_review.records.schema import notifications
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal import search_attributes as sa
from peer_review.temporal.client import ListFilter, PeerReviewClient
from tests.helpers import new_worker, refer, referral, skipping_reviews, triaged
from tests.helpers.reviews import settle
from worker import PeerReviewWorker

# England and Wales, Christmas: the chair decision of a referral made at 10:00 on the 23rd is due five
# working days later. 2026: 24, 29, 30, 31 Dec, 4 Jan (25 Dec, the 28 Dec substitute for Boxing Day and
# 1 Jan are bank holidays). 2027: 24, 29, 30, 31 Dec, 4 Jan 2028 (27 and 28 Dec substitute for Christmas and
# Boxing Day, 3 Jan 2028 for New Year's Day).
CHRISTMAS = {
    2026: ("2026-12-31", "2027-01-04", "2027-01-11"),
    2027: ("2027-12-31", "2028-01-04", "2028-01-11"),
}


async def alarms(reviews: PeerReviewClient, referral_id: str) -> list[AuditEvent]:
    trail = await reviews.audit_trail(referral_id)
    return [e for e in trail if e.action in ("reminder", "escalated")]


async def skip_to(env: WorkflowEnvironment, moment: datetime) -> None:
    now = await env.get_current_time()
    assert moment > now, f"the test server's clock ({now}) is already past {moment}"
    await env.sleep(moment - now)


async def test_reminder_and_escalations_fall_on_working_days_across_christmas(
    skipping_env: WorkflowEnvironment, skipping_settings: Settings, store: RecordsStore
) -> None:
    now = await skipping_env.get_current_time()
    year = next(y for y in sorted(CHRISTMAS) if datetime(y, 12, 23, 9, tzinfo=UTC) > now)
    reminder_day, due_day, second_escalation_day = CHRISTMAS[year]
    await skip_to(skipping_env, datetime(year, 12, 23, 10, tzinfo=UTC))
    reviews = skipping_reviews(skipping_env, skipping_settings)
    async with new_worker(skipping_env.client, skipping_settings, store):
        ref = await refer(reviews, "persistent")
        view = await triaged(reviews, ref)
        assert view.deadlines[0].due_at.date().isoformat() == due_day
        await skipping_env.sleep(timedelta(days=20))
        fired = await alarms(reviews, ref)
        assert [(e.action, e.at.date().isoformat()) for e in fired] == [
            ("reminder", reminder_day),
            ("escalated", due_day),
            ("escalated", second_escalation_day),
        ]
        view = await reviews.status(ref)
        assert view.overdue is True
        # `list --overdue` queries this search attribute (the time-skipping server has no visibility queries).
        described = await skipping_env.client.get_workflow_handle(f"peer-review-{ref}").describe()
        assert described.typed_search_attributes.get(sa.OVERDUE) is True
        assert "PeerReviewOverdue = true" in ListFilter(overdue=True).query()
        # Acting ends the wait: the overdue flag clears and the next deadline starts afresh.
        view = await reviews.act(ref, ActionName.APPROVE, Decision(actor="S100"))
        assert view.overdue is False and view.deadlines[0].status is Status.AWAITING_REVIEWER
        trail = await reviews.audit_trail(ref)
        recipients = {
            e.detail.split(" to ")[1].split(":")[0]
            for e in trail
            if e.action == "notification_sent" and e.detail and e.detail.startswith("escalation")
        }
        assert recipients == {"S101", "S200"}  # the deputy Chair first, then the Focal Point too


async def test_acting_before_the_deadline_cancels_the_alarms(
    skipping_env: WorkflowEnvironment, time_skipping_reviews: PeerReviewClient
) -> None:
    reviews = time_skipping_reviews
    ref = await refer(reviews, "persistent")
    await reviews.act(ref, ActionName.DECLINE, Decision(actor="S100", rationale="Not needed"))
    await skipping_env.client.get_workflow_handle(f"peer-review-{ref}").result()
    await skipping_env.sleep(timedelta(days=30))
    assert await alarms(reviews, ref) == []


async def test_a_restarted_worker_neither_loses_nor_repeats_an_alarm(
    skipping_env: WorkflowEnvironment, skipping_settings: Settings, store: RecordsStore
) -> None:
    reviews = skipping_reviews(skipping_env, skipping_settings)
    r = referral("persistent")

    def fresh_worker() -> PeerReviewWorker:
        # No sticky cache: each worker rebuilds the review by replaying its history, as after a crash.
        return new_worker(skipping_env.client, skipping_settings, store, max_cached_workflows=0)

    async with fresh_worker():
        await reviews.refer(r)
        due = (await triaged(reviews, r.referral_id)).deadlines[0].due_at
        # The time-skipping server sometimes refuses a completion ("invalid history builder state") when time jumps
        # past a pending timer while a stopped worker's activities are still open. A crash mid-step is covered on
        # the real server in tests/faults; this test is about alarms, so the first worker finishes its step.
        await settle(reviews, store, r.referral_id)
    async with fresh_worker():
        await skip_to(skipping_env, due - timedelta(hours=1))
        assert [e.action for e in await alarms(reviews, r.referral_id)] == ["reminder"]
    async with fresh_worker():
        assert [e.action for e in await alarms(reviews, r.referral_id)] == ["reminder"]
        await skipping_env.sleep(timedelta(hours=2))
        assert [e.action for e in await alarms(reviews, r.referral_id)] == ["reminder", "escalated"]
    outbox = await outbox_steps(store, r.referral_id)
    assert outbox.count("reminder") == 1 and outbox.count("escalation") == 1  # the first goes to the deputy


async def outbox_steps(store: RecordsStore, referral_id: str) -> list[str]:
    async with store.engine.connect() as connection:
        rows = await connection.execute(select(notifications.c.step).where(notifications.c.referral_id == referral_id))
        return [row[0] for row in rows]
