"""The keyed audit chain (DESIGN §6): any edit, deletion, insertion or reordering breaks it, and so does a rewrite
whose hashes are recomputed by anyone without the chain key."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from peer_review.domain.audit_chain import GENESIS, ChainedEvent, canonical, event_mac, verify_chain
from peer_review.domain.models import AuditEvent, Status
from tests.helpers import PROPERTY

REFERRAL_ID = "PR-2026-0001"
KEY_ID, KEY = "k1-test", b"k" * 32
KEYS = {KEY_ID: KEY}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEPS: list[tuple[str, str, Status | None, Status | None]] = [
    ("system", "referred", None, Status.REFERRED),
    ("system", "triage", Status.REFERRED, Status.TRIAGE),
    ("system", "triaged", Status.TRIAGE, Status.AWAITING_CHAIR_DECISION),
    ("S100", "approve", Status.AWAITING_CHAIR_DECISION, Status.AWAITING_REVIEWER),
    ("S100", "assign_reviewer", Status.AWAITING_REVIEWER, Status.UNDER_REVIEW),
    ("system", "notification_sent", None, None),
    ("S400", "submit_findings", Status.UNDER_REVIEW, Status.AWAITING_SIGN_OFF),
    ("S100", "sign_off", Status.AWAITING_SIGN_OFF, Status.CLOSED),
]


def events(count: int) -> list[AuditEvent]:
    return [
        AuditEvent(
            seq=n,
            at=START + timedelta(minutes=n),
            actor=STEPS[(n - 1) % len(STEPS)][0],
            action=STEPS[(n - 1) % len(STEPS)][1],
            from_status=STEPS[(n - 1) % len(STEPS)][2],
            to_status=STEPS[(n - 1) % len(STEPS)][3],
            detail=f"step {n}",
        )
        for n in range(1, count + 1)
    ]


def event_hash(referral_id: str, event: AuditEvent, previous: str) -> str:
    return event_mac(KEY, referral_id, event, previous)


def chain(items: list[AuditEvent], referral_id: str = REFERRAL_ID) -> list[ChainedEvent]:
    """Rows as the records store writes them: each carries the hash of the one before."""
    rows: list[ChainedEvent] = []
    previous = GENESIS
    for event in items:
        digest = event_hash(referral_id, event, previous)
        rows.append(ChainedEvent(event=event, previous_hash=previous, hash=digest, key_id=KEY_ID))
        previous = digest
    return rows


EDITS: list[dict[str, Any]] = [
    {"actor": "S999"},
    {"action": "decline"},
    {"detail": "nothing to see here"},
    {"detail": None},
    {"at": START - timedelta(days=1)},
    {"to_status": Status.CLOSED, "from_status": Status.TRIAGE},
]

lengths = st.integers(min_value=1, max_value=12)


def test_a_valid_chain_passes() -> None:
    check = verify_chain(REFERRAL_ID, chain(events(8)), KEYS)
    assert check.valid and check.problem is None and check.broken_at_seq is None


def test_an_empty_chain_passes() -> None:
    assert verify_chain(REFERRAL_ID, [], KEYS).valid


def test_first_row_follows_genesis() -> None:
    rows = chain(events(3))
    assert rows[0].previous_hash == GENESIS
    assert all(rows[i].previous_hash == rows[i - 1].hash for i in range(1, 3))


def test_event_hash_is_deterministic_and_sensitive_to_every_input() -> None:
    event = events(1)[0]
    digest = event_hash(REFERRAL_ID, event, GENESIS)
    assert digest == event_hash(REFERRAL_ID, event, GENESIS)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert event_hash("PR-OTHER", event, GENESIS) != digest
    assert event_hash(REFERRAL_ID, event, "1" * 64) != digest
    for change in EDITS:
        assert event_hash(REFERRAL_ID, event.model_copy(update=change), GENESIS) != digest


def broken_at(rows: list[ChainedEvent]) -> int | None:
    """Where verification finds the chain broken; it must find it broken."""
    check = verify_chain(REFERRAL_ID, rows, KEYS)
    assert not check.valid
    return check.broken_at_seq


@PROPERTY
@given(length=lengths)
def test_any_honest_chain_passes(length: int) -> None:
    assert verify_chain(REFERRAL_ID, chain(events(length)), KEYS).valid


@PROPERTY
@given(length=lengths, data=st.data())
def test_an_edited_row_is_detected(length: int, data: st.DataObject) -> None:
    rows = chain(events(length))
    index = data.draw(st.integers(0, length - 1))
    change = data.draw(st.sampled_from(EDITS))
    row = rows[index]
    edited = row.event.model_copy(update=change)
    assume(edited != row.event)
    rows[index] = ChainedEvent(event=edited, previous_hash=row.previous_hash, hash=row.hash, key_id=KEY_ID)
    check = verify_chain(REFERRAL_ID, rows, KEYS)
    assert not check.valid and check.broken_at_seq == index + 1
    assert "altered" in (check.problem or "")


@PROPERTY
@given(length=st.integers(2, 12), data=st.data())
def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(length: int, data: st.DataObject) -> None:
    rows = chain(events(length))
    index = data.draw(st.integers(0, length - 2))
    row = rows[index]
    edited = row.event.model_copy(update={"detail": "rewritten"})
    rows[index] = ChainedEvent(
        event=edited,
        previous_hash=row.previous_hash,
        hash=event_hash(REFERRAL_ID, edited, row.previous_hash),
        key_id=KEY_ID,
    )
    assert broken_at(rows) == index + 2


@st.composite
def chains_missing_a_middle_row(draw: st.DrawFn) -> tuple[list[ChainedEvent], int]:
    """A chain of 3 to 12 rows with one row deleted from neither end, and the index that row stood at."""
    length = draw(st.integers(3, 12))
    rows = chain(events(length))
    index = draw(st.integers(1, length - 2))
    del rows[index]
    return rows, index


@PROPERTY
@given(deleted=chains_missing_a_middle_row())
def test_a_deleted_middle_row_is_detected(deleted: tuple[list[ChainedEvent], int]) -> None:
    rows, index = deleted
    assert broken_at(rows) == index + 2


@PROPERTY
@given(length=st.integers(2, 12))
def test_a_deleted_first_row_is_detected(length: int) -> None:
    rows = chain(events(length))[1:]
    assert not verify_chain(REFERRAL_ID, rows, KEYS).valid


@PROPERTY
@given(deleted=chains_missing_a_middle_row())
def test_a_deleted_middle_row_is_detected_even_if_later_rows_are_renumbered(
    deleted: tuple[list[ChainedEvent], int],
) -> None:
    rows, index = deleted
    renumbered = [
        ChainedEvent(
            event=r.event.model_copy(update={"seq": n}), previous_hash=r.previous_hash, hash=r.hash, key_id=KEY_ID
        )
        for n, r in enumerate(rows, start=1)
    ]
    assert broken_at(renumbered) == index + 1


@PROPERTY
@given(length=st.integers(2, 12), data=st.data())
def test_reordered_rows_are_detected(length: int, data: st.DataObject) -> None:
    rows = chain(events(length))
    first = data.draw(st.integers(0, length - 2))
    second = data.draw(st.integers(first + 1, length - 1))
    rows[first], rows[second] = rows[second], rows[first]
    assert broken_at(rows) == second + 1


@PROPERTY
@given(length=st.integers(2, 12), data=st.data())
def test_any_permutation_other_than_the_original_is_detected(length: int, data: st.DataObject) -> None:
    rows = chain(events(length))
    shuffled = data.draw(st.permutations(rows))
    assume(shuffled != rows)
    assert not verify_chain(REFERRAL_ID, shuffled, KEYS).valid


@PROPERTY
@given(length=lengths, data=st.data())
def test_an_inserted_row_is_detected(length: int, data: st.DataObject) -> None:
    rows = chain(events(length))
    index = data.draw(st.integers(0, length))
    forged = events(length + 1)[-1].model_copy(update={"seq": index + 1})
    previous = rows[index - 1].hash if index else GENESIS
    rows.insert(
        index,
        ChainedEvent(
            event=forged, previous_hash=previous, hash=event_hash(REFERRAL_ID, forged, previous), key_id=KEY_ID
        ),
    )
    if index == length:
        # Appending a correctly chained row is simply a longer chain (the store's job to prevent).
        assert verify_chain(REFERRAL_ID, rows, KEYS).valid
    else:
        assert not verify_chain(REFERRAL_ID, rows, KEYS).valid


def test_a_chain_from_another_referral_fails() -> None:
    rows = chain(events(4), referral_id="PR-2026-0002")
    check = verify_chain(REFERRAL_ID, rows, KEYS)
    assert not check.valid and check.broken_at_seq == 1


def test_a_tampered_previous_hash_is_detected() -> None:
    rows = chain(events(3))
    rows[1] = ChainedEvent(event=rows[1].event, previous_hash="f" * 64, hash=rows[1].hash, key_id=KEY_ID)
    check = verify_chain(REFERRAL_ID, rows, KEYS)
    assert not check.valid and check.broken_at_seq == 2
    assert "does not follow" in (check.problem or "")


def test_a_chain_not_starting_at_one_is_detected() -> None:
    rows = chain([e.model_copy(update={"seq": e.seq + 1}) for e in events(3)])
    check = verify_chain(REFERRAL_ID, rows, KEYS)
    assert not check.valid and check.broken_at_seq == 2
    assert check.problem == "expected event 1, found event 2"


def rehashed(rows: list[ChainedEvent], index: int, seal: Any) -> list[ChainedEvent]:
    """A database owner's rewrite: change one row's detail, then recompute its hash and every later one with `seal`."""
    result = rows[:index]
    previous = rows[index - 1].hash if index else GENESIS
    for position, row in enumerate(rows[index:], start=index):
        event = row.event.model_copy(update={"detail": "rewritten"}) if position == index else row.event
        digest = seal(event, previous)
        result.append(ChainedEvent(event=event, previous_hash=previous, hash=digest, key_id=row.key_id))
        previous = digest
    return result


def test_a_rewrite_rehashed_with_plain_sha256_is_detected() -> None:
    rows = chain(events(6))

    def sha256(event: AuditEvent, previous: str) -> str:
        return hashlib.sha256(canonical(REFERRAL_ID, event, previous)).hexdigest()

    forged = rehashed(rows, 2, sha256)
    # Each link is consistent, as an unkeyed chain's verifier would see it ...
    assert all(forged[i].previous_hash == forged[i - 1].hash for i in range(1, len(forged)))
    # ... but without the key the MACs cannot be made.
    check = verify_chain(REFERRAL_ID, forged, KEYS)
    assert not check.valid and check.broken_at_seq == 3 and "altered" in (check.problem or "")


def test_a_rewrite_rehashed_under_another_key_is_detected() -> None:
    forged = rehashed(chain(events(5)), 0, lambda event, previous: event_mac(b"x" * 32, REFERRAL_ID, event, previous))
    assert not verify_chain(REFERRAL_ID, forged, KEYS).valid


def test_rows_sealed_under_an_older_key_verify_after_rotation() -> None:
    rows = chain(events(3))
    newer = {"k2-test": b"n" * 32}
    previous = rows[-1].hash
    later = events(4)[-1]
    rows.append(
        ChainedEvent(later, previous, event_mac(newer["k2-test"], REFERRAL_ID, later, previous), key_id="k2-test")
    )
    assert verify_chain(REFERRAL_ID, rows, {**KEYS, **newer}).valid
    check = verify_chain(REFERRAL_ID, rows, newer)  # the old key dropped from the ring: its rows cannot be checked
    assert not check.valid and check.broken_at_seq == 1 and "not in the key ring" in (check.problem or "")
