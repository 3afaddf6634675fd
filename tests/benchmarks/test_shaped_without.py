"""`--shaped-without` leaves child workflows or upserts out of the shaped twin, and nothing else."""

from __future__ import annotations

import pytest

from benchmarks.options import parse
from benchmarks.shape import ActivityShape, ReviewShape, StepShape


def _review() -> ReviewShape:
    child = ReviewShape(
        start_input_bytes=300,
        start_header_bytes=0,
        start_attributes=["PeerReviewOSN"],
        patches=0,
        steps=[StepShape(activities=[ActivityShape("-records", False, 900, 200)], upserts=[["PeerReviewStatus"]])],
        result_bytes=0,
        open=True,
    )
    steps = [
        StepShape(activities=[ActivityShape("", True, 500, 180)], upserts=[["PeerReviewStatus", "PeerReviewDueAt"]]),
        StepShape(upserts=[["PeerReviewStatus"]], timers=1, update_header_bytes=400),
        StepShape(upserts=[["PeerReviewStatus"]], child_ids=["rec-R1", "rec-R2"]),
    ]
    return ReviewShape(
        start_input_bytes=1600,
        start_header_bytes=410,
        start_attributes=["PeerReviewOSN", "PeerReviewStatus"],
        patches=1,
        steps=steps,
        result_bytes=420,
        children={"rec-R1": child, "rec-R2": child},
    )


@pytest.mark.parametrize(
    ("parts", "upserts", "children", "child_activities"),
    [
        ((), 4, 2, 2),  # three steps' upserts and the patch marker's
        (("children",), 4, 0, 0),
        (("upserts",), 1, 2, 2),  # the patch marker's upsert stays
        (("children", "upserts"), 1, 0, 0),
    ],
)
def test_what_each_leave_out_removes(
    parts: tuple[str, ...], upserts: int, children: int, child_activities: int
) -> None:
    review = _review()
    summary = review.without(parts).summary()
    assert (summary["upserts"], summary["children"], summary["child_activities"]) == (
        upserts,
        children,
        child_activities,
    )
    # Everything else is the review's work as it was.
    assert (summary["activities"], summary["updates"], summary["timers"], summary["patches"]) == (1, 2, 1, 1)
    assert review.summary()["upserts"] == 4  # the shape it was made from is untouched


def test_children_keep_their_own_work_unless_left_out() -> None:
    lighter = _review().without(["upserts"])
    assert all(child.upserts == 0 for child in lighter.children.values())
    assert all(child.activities == 1 for child in lighter.children.values())


def test_only_known_parts_can_be_left_out() -> None:
    with pytest.raises(ValueError, match="timers"):
        _review().without(["timers"])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ()),
        (["--shaped-without", "children"], ("children",)),
        (
            ["--shaped-without", "upserts", "--shaped-without", "children", "--shaped-without", "upserts"],
            ("upserts", "children"),
        ),
    ],
)
def test_option(argv: list[str], expected: tuple[str, ...]) -> None:
    assert parse(["--quick", *argv]).shaped_without == expected


def test_option_refuses_other_parts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--shaped-without", "activities"])
    assert "invalid choice: 'activities'" in capsys.readouterr().err
