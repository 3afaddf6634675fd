"""Who may act is looked up again on each move and alarm; an alarm whose wait ended meanwhile is not raised."""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from temporalio import activity
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

import worker
from activities.directory import DirectoryActivities
from peer_review.domain.lifecycle import ActionName, RejectionKind
from peer_review.domain.models import (
    Decision,
    FindingsSubmission,
    Referral,
    ReviewContacts,
    ReviewerAssignment,
    Status,
)
from peer_review.records.store import RecordsStore
from peer_review.settings import Settings
from peer_review.temporal.client import ActionRejected, PeerReviewClient
from peer_review.temporal.names import RESOLVE_CONTACTS
from tests.helpers import EXAMPLES, findings, new_worker, refer, skipping_reviews, triaged, worker_settings
from tests.helpers.reviews import settle
from tests.helpers.staff import CHAIR, FOCAL, REVIEWER

OLD_CHAIR, NEW_CHAIR = CHAIR, "S102"


def replace_chair(directory: Path) -> None:
    """Ann Chair (S100) leaves the post; Neil Newchair (S102) takes over north-east."""
    document = yaml.safe_load(directory.read_text())
    for member in document["staff"]:
        if member["id"] == OLD_CHAIR:
            member["roles"] = ["caseworker"]
    document["staff"].append(
        {
            "id": NEW_CHAIR,
            "name": "Neil Newchair",
            "email": "neil.newchair@example.gov.uk",
            "site": "Sunderland",
            "osn": "north-east",
            "roles": ["osn_chair"],
        }
    )
    directory.write_text(yaml.safe_dump(document))


@pytest.fixture
def own_directory(tmp_path: Path, settings: Settings) -> Settings:
    copy = tmp_path / "directory.yaml"
    shutil.copy(EXAMPLES / "directory.yaml", copy)
    return settings.model_copy(update={"directory": copy})


async def test_a_replaced_chair_takes_effect_at_the_next_move(
    client: Client, own_directory: Settings, store: RecordsStore
) -> None:
    settings = own_directory
    reviews = PeerReviewClient(client, settings)
    async with new_worker(client, settings, store):
        ref = await refer(reviews, "suicide")
        assert (await triaged(reviews, ref)).chair == OLD_CHAIR
        replace_chair(settings.directory)
        await reviews.act(ref, ActionName.ASSIGN_REVIEWER, ReviewerAssignment(actor=FOCAL, reviewer=REVIEWER))
        await reviews.act(ref, ActionName.SUBMIT_FINDINGS, FindingsSubmission(actor=REVIEWER, findings=findings()))
        with pytest.raises(ActionRejected) as refused:
            await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=OLD_CHAIR))
        assert refused.value.kind is RejectionKind.NOT_PERMITTED
        view = await reviews.act(ref, ActionName.SIGN_OFF, Decision(actor=NEW_CHAIR))
        assert view.status is Status.CLOSED and view.chair == NEW_CHAIR
        trail = await reviews.audit_trail(ref)
        changed = [e for e in trail if e.action == "contacts_changed"]
        assert len(changed) == 1 and changed[0].detail == f"chair {OLD_CHAIR} -> {NEW_CHAIR}"
        assert [e.actor for e in trail if e.action == "sign_off_rejected"] == [OLD_CHAIR]


class HeldDirectory(DirectoryActivities):
    """Answers triage's look-up at once and holds every later one until the test releases it."""

    looked_up = 0
    started = asyncio.Event()
    release = asyncio.Event()

    @activity.defn(name=RESOLVE_CONTACTS)
    async def resolve_contacts(self, referral: Referral) -> ReviewContacts:
        HeldDirectory.looked_up += 1
        if HeldDirectory.looked_up > 1:
            HeldDirectory.started.set()
            await HeldDirectory.release.wait()
        return await super().resolve_contacts(referral)


@pytest.fixture
def skipping_settings(skipping_env: WorkflowEnvironment, tmp_path: Path) -> Settings:
    """A directory of the test's own, which it edits."""
    copy = tmp_path / "directory.yaml"
    shutil.copy(EXAMPLES / "directory.yaml", copy)
    return worker_settings(tmp_path, directory=copy)


async def test_a_replaced_chair_gets_the_reminder(
    skipping_env: WorkflowEnvironment, skipping_settings: Settings, time_skipping_reviews: PeerReviewClient
) -> None:
    reviews = time_skipping_reviews
    ref = await refer(reviews, "persistent")
    due = (await triaged(reviews, ref)).deadlines[0].due_at
    replace_chair(skipping_settings.directory)
    await skipping_env.sleep(due - await skipping_env.get_current_time() - timedelta(hours=1))
    trail = await reviews.audit_trail(ref)
    actions = [e.action for e in trail]
    assert actions.index("contacts_changed") < actions.index("reminder")
    reminded = [e.detail for e in trail if e.action == "notification_sent" and (e.detail or "").startswith("rem")]
    assert reminded and all(f"to {NEW_CHAIR}:" in (d or "") for d in reminded)
    with pytest.raises(ActionRejected):
        await reviews.act(ref, ActionName.APPROVE, Decision(actor=OLD_CHAIR))
    view = await reviews.act(ref, ActionName.APPROVE, Decision(actor=NEW_CHAIR))
    assert view.status is Status.AWAITING_REVIEWER


async def test_an_action_during_an_alarm_is_not_undone_by_it(
    skipping_env: WorkflowEnvironment,
    skipping_settings: Settings,
    store: RecordsStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race, made deterministic: the reminder's timer fires, and while the workflow looks up who to remind, the
    Chair approves. The reminder belongs to a wait that has ended: raising it would put back the chair-decision
    deadline (and later mark the review overdue and escalate it) although the review has moved on."""
    monkeypatch.setattr(worker, "DirectoryActivities", HeldDirectory)
    HeldDirectory.looked_up = 0
    HeldDirectory.started, HeldDirectory.release = asyncio.Event(), asyncio.Event()
    reviews = skipping_reviews(skipping_env, skipping_settings)
    async with new_worker(skipping_env.client, skipping_settings, store):
        ref = await refer(reviews, "persistent")
        due = (await triaged(reviews, ref)).deadlines[0].due_at
        # Past the reminder (one working day before the deadline), not yet at the deadline. The held look-up stops
        # the test server's clock, so the skip finishes only once it is released.
        skip = due - await skipping_env.get_current_time() - timedelta(hours=1)
        skipping = asyncio.create_task(skipping_env.sleep(skip))
        await HeldDirectory.started.wait()
        view = await reviews.act(ref, ActionName.APPROVE, Decision(actor=OLD_CHAIR))
        assert view.status is Status.AWAITING_REVIEWER
        HeldDirectory.release.set()
        await skipping
        await settle(reviews, store, ref)
        view = await reviews.status(ref)
        assert view.status is Status.AWAITING_REVIEWER
        assert [d.status for d in view.deadlines] == [Status.AWAITING_REVIEWER] and not view.overdue
        trail = [e.action for e in await reviews.audit_trail(ref)]
        assert "reminder" not in trail[trail.index("approve") :]
