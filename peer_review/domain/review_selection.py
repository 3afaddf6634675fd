"""Which reviews a list shows: the criteria the `list` command, the API's list route and the search page share,
whichever store answers them (Temporal's visibility store or the records database). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from peer_review.domain.models import Reason, Status


@dataclass(frozen=True)
class ReviewSelection:
    """By status, OSN, reason, and only overdue ones; None (or False) leaves a criterion out."""

    status: Status | None = None
    osn: str | None = None
    reason: Reason | None = None
    overdue: bool = False
