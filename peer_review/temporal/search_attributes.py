"""Typed search attributes. They are not encrypted, so they hold no personal data (DESIGN §4)."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from peer_review.domain.models import Referral, Status, StatusView

STATUS = SearchAttributeKey.for_keyword("PeerReviewStatus")
OSN = SearchAttributeKey.for_keyword("PeerReviewOSN")
REASONS = SearchAttributeKey.for_keyword_list("PeerReviewReasons")
MANDATORY = SearchAttributeKey.for_bool("PeerReviewMandatory")
LEVEL = SearchAttributeKey.for_keyword("PeerReviewLevel")
DUE_AT = SearchAttributeKey.for_datetime("PeerReviewDueAt")
OVERDUE = SearchAttributeKey.for_bool("PeerReviewOverdue")

ALL: list[SearchAttributeKey[Any]] = [STATUS, OSN, REASONS, MANDATORY, LEVEL, DUE_AT, OVERDUE]


def at_start(referral: Referral) -> TypedSearchAttributes:
    """What a review is searchable by from its first moment: every review goes straight into triage.

    A client that sends these with the start saves the workflow an upsert (a history event and a visibility
    write); the workflow upserts them itself for a client that does not.
    """
    return TypedSearchAttributes(
        [
            SearchAttributePair(STATUS, Status.TRIAGE.value),
            SearchAttributePair(OSN, referral.osn),
            SearchAttributePair(REASONS, [reason.value for reason in referral.reasons]),
            SearchAttributePair(LEVEL, referral.referral_level.value),
        ]
    )


def carries(attributes: TypedSearchAttributes, expected: TypedSearchAttributes) -> bool:
    return all(attributes.get(pair.key) == pair.value for pair in expected)


def agrees(published: TypedSearchAttributes, view: StatusView) -> bool:
    """Whether `view` says what the workflow last published: its status, reasons, deadline and overdue flag.

    Every move publishes the status, the deadline and the overdue flag together, a passed deadline the flag, and a
    reason added the reasons; every other part of a view changes only with a move. So a view that agrees on all
    four is the workflow's current one, whichever of its records it came from.
    """
    due = view.deadlines[0].due_at if view.deadlines else None
    return (
        published.get(STATUS) == view.status.value
        and sorted(published.get(REASONS) or []) == sorted(reason.value for reason in view.reasons)
        and published.get(DUE_AT) == due
        and bool(published.get(OVERDUE)) == view.overdue
    )


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    return [flag for key in ALL for flag in ("--search-attribute", f"{key.name}={_type_name(key)}")]


def _type_name(key: SearchAttributeKey[Any]) -> str:
    return {
        "KEYWORD": "Keyword",
        "KEYWORD_LIST": "KeywordList",
        "BOOL": "Bool",
        "DATETIME": "Datetime",
    }[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")]
