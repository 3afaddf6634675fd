"""The one rule for reads (peer_review.domain.lifecycle.read_scope), as a table: every kind of person against
reviews of every relation to them."""

from __future__ import annotations

import pytest

from peer_review.domain.lifecycle import Parties, Reader, may_read, read_scope
from peer_review.domain.models import Role
from peer_review.domain.staff_directory import load_directory
from tests.helpers import EXAMPLES

# One review in north-east, referred by S300 and assigned to S400; another in south-west with other people.
HERE = Parties(osn="north-east", referred_by="S300", reviewer="S400")
ELSEWHERE = Parties(osn="south-west", referred_by="S311", reviewer="S401")

PEOPLE: dict[str, tuple[str, set[Parties]]] = {
    "auditor": ("S500", {HERE, ELSEWHERE}),
    "focal point": ("S200", {HERE, ELSEWHERE}),
    "chair of the OSN": ("S100", {HERE}),
    "deputy of the OSN": ("S101", {HERE}),
    "chair of another OSN": ("S110", {ELSEWHERE}),
    "assigned reviewer": ("S400", {HERE}),
    "unassigned reviewer": ("S401", {ELSEWHERE}),  # assigned to the other one
    "referrer": ("S300", {HERE}),
    "other caseworker": ("S302", set()),
    "same-site reviewer": ("S301", set()),
}


@pytest.mark.parametrize("person", list(PEOPLE))
@pytest.mark.parametrize("review", [HERE, ELSEWHERE], ids=["north-east", "south-west"])
def test_who_may_read_which_review(person: str, review: Parties) -> None:
    staff_id, readable = PEOPLE[person]
    reader = load_directory(EXAMPLES / "directory.yaml").reader(staff_id)
    assert reader is not None
    assert may_read(reader, review) is (review in readable)


def test_someone_with_no_relation_reads_nothing() -> None:
    nobody = Reader("S999", frozenset({Role.CASEWORKER}))
    scope = read_scope(nobody)
    assert not scope.everything and not scope.osns
    assert not may_read(nobody, HERE) and not may_read(nobody, ELSEWHERE)


def test_an_integration_reads_nothing_by_its_role() -> None:
    integration = Reader("I900", frozenset({Role.INTEGRATION}))
    assert not may_read(integration, HERE)
