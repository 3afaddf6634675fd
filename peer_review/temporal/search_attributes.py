"""Typed search attributes. They are not encrypted, so they hold no personal data (DESIGN §4)."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from peer_review.domain.models import Referral, Status

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
