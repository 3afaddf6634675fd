"""Who hears what about one review: its Chair, its Focal Points, the people told at closure and the site whose
practice was reviewed. `ReviewNotices` reads the review's current contacts and reviewer each time it sends, so a
notice goes to whoever holds the post now (nobody, while the directory has not answered), and sends through the
review's record keeper (workflows/side_effects.py). Imported by workflows/peer_review.py only. Runs inside the
workflow: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from peer_review.domain.models import Referral, ReviewContacts
    from peer_review.domain.notices import Step

from workflows.side_effects import ReviewRecordKeeper


class ReviewNotices:
    def __init__(
        self,
        referral: Referral,
        records: ReviewRecordKeeper,
        *,
        contacts: Callable[[], ReviewContacts | None],
        reviewer: Callable[[], str | None],
    ) -> None:
        self._referral = referral
        self._records = records
        self._contacts = contacts
        self._reviewer = reviewer
        # Who reads for the owners of the findings' local recommendations (told at closure).
        self.local_owner_contacts: list[str] = []

    def chair(self, step: Step) -> None:
        contacts = self._contacts()
        self._records.notify(contacts.chair if contacts else None, step)

    def focal_points(self, step: Step) -> None:
        contacts = self._contacts()
        self._records.notify_all(contacts.focal_points if contacts else [], step)

    def closed(self) -> None:
        self._records.notify(self._referral.referred_by, Step.REVIEW_CLOSED)
        self._records.notify(self._reviewer(), Step.REVIEW_CLOSED)

    def local_feedback(self) -> None:
        """The site whose practice was reviewed learns where to read the outcome and its local recommendations."""
        told = {self._referral.referred_by, self._reviewer()}
        contacts = self._contacts()
        site = contacts.site_contacts if contacts else []
        recipients = [c for c in dict.fromkeys([*site, *self.local_owner_contacts]) if c not in told]
        self._records.notify_all(recipients, Step.LOCAL_FEEDBACK)
