"""End to end: a dev server, a real worker process, and only the `peer-review` command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli
from tests.helpers import EXAMPLES, example


def test_full_path_through_the_command_line(cli: Cli) -> None:
    ref, path = cli.referral_file("complex-issue")
    started = cli.json("refer", path)
    assert started == {
        "referral_id": ref,
        "workflow_id": f"peer-review-{ref}",
        "status": "referred",
        "already_started": False,
        "related": [],
    }
    again = cli.json("refer", "-", stdin=Path(path).read_text())
    assert again["already_started"] is True and again["workflow_id"] == f"peer-review-{ref}"
    cli.wait_for(ref, "awaiting_chair_decision")
    cli.json("approve", ref, "--as", "S100", "--rationale", "Several issues")
    cli.json("assign-reviewer", ref, "--reviewer", "S400", "--as", "S100")
    view = cli.json("submit-findings", ref, str(EXAMPLES / "findings-contentious.json"), "--as", "S400")
    assert view["status"] == "awaiting_legal_clearance"
    cli.json("clear", ref, "--as", "S200")
    cli.json("return-for-rework", ref, "--as", "S100", "--reason", "More chronology")
    cli.json("submit-findings", ref, str(EXAMPLES / "findings.json"), "--as", "S400")
    view = cli.json("sign-off", ref, "--as", "S100")
    assert set(view) >= {
        "referral_id",
        "status",
        "stage",
        "outcome",
        "mandatory",
        "osn",
        "priority",
        "chair",
        "reviewer",
        "deadlines",
        "overdue",
    }
    assert (view["status"], view["outcome"], view["stage"]) == ("closed", "completed", "closure")

    cli.wait_until_finished(ref)
    audit = cli.json("audit", ref, "--verify", "--as", "S100")
    assert audit["referral_id"] == ref and audit["chain_valid"] is True
    actions = [e["action"] for e in audit["events"]]
    for expected in ("approve", "assign_reviewer", "submit_findings", "clear", "return_for_rework", "sign_off"):
        assert expected in actions
    assert "notification_sent" in actions[actions.index("sign_off") :]  # the closing move's messages, recorded too
    human = cli.run("audit", ref, "--verify", "--as", "S100")
    assert human.returncode == 0 and "Keyed chain valid" in human.stdout
    assert cli.run("audit", ref, "--as", "S302").returncode == 3  # no part in this review

    history = cli.json("history", ref, "--as", "S500")
    assert history[0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    started_input = history[0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]
    assert started_input["referral"]["referral_id"] == ref  # decoded, not base64

    listed = cli.json("list", "--status", "closed", "--osn", "north-east", "--reason", "complex_issue", "--as", "S100")
    assert ref in [item["referral_id"] for item in listed]
    elsewhere = cli.json("list", "--status", "closed", "--osn", "north-east", "--as", "S110")  # another OSN's Chair
    assert ref not in [item["referral_id"] for item in elsewhere]


def test_each_kind_of_referral_starts(cli: Cli) -> None:
    expected = {
        "suicide": ("awaiting_reviewer", True),
        "additional-needs": ("awaiting_chair_decision", False),
        "complex-issue": ("awaiting_chair_decision", False),
        "persistent": ("awaiting_chair_decision", False),
        "other": ("awaiting_chair_decision", False),
    }
    for kind, (status, mandatory) in expected.items():
        ref, path = cli.referral_file(kind)
        cli.json("refer", path)
        assert cli.wait_for(ref, status)["mandatory"] is mandatory


def test_invalid_referrals_exit_2_naming_the_field_and_start_nothing(cli: Cli) -> None:
    ref, path = cli.referral_file("other", other_reason=None)
    done = cli.run("refer", path)
    assert done.returncode == 2 and "other_reason" in done.stderr
    for bad, field in (
        ({"reasons": ["bogus"]}, "reasons"),
        ({"colour": "red"}, "colour"),
        ({"referred_by": "S999"}, "referred_by"),
        ({"referral_level": "region"}, "referral_level"),
    ):
        _, bad_path = cli.referral_file("persistent", **bad)
        done = cli.run("refer", bad_path)
        assert done.returncode == 2 and field in done.stderr, done.stderr
    Path(path).write_text("{not json")
    done = cli.run("refer", path)
    assert done.returncode == 2 and "not valid JSON" in done.stderr
    assert cli.run("status", ref).returncode == 4


def test_rejections_exit_3_and_unknown_referrals_exit_4(cli: Cli) -> None:
    ref = cli.referred("suicide", "awaiting_reviewer")
    done = cli.run("withdraw", ref, "--as", "S300", "--reason", "no longer needed")
    assert done.returncode == 3 and "mandatory" in done.stderr
    done = cli.run("assign-reviewer", ref, "--reviewer", "S301", "--as", "S100")
    assert done.returncode == 3 and "Leeds" in done.stderr
    assert cli.run("approve", "NO-SUCH-REF", "--as", "S100").returncode == 4
    assert cli.run("audit", "NO-SUCH-REF", "--as", "S500").returncode == 4
    assert cli.run("status", "not a ref!").returncode == 2


def test_an_unreachable_server_is_said_plainly(cli: Cli) -> None:
    cli.variables = {**cli.variables, "TEMPORAL_ADDRESS": "127.0.0.1:1"}
    done = cli.run("status", "PR-1")
    assert done.returncode == 1 and "cannot reach the Temporal server" in done.stderr


def test_findings_over_the_size_limit_exit_2_naming_the_size(cli: Cli, tmp_path: Path) -> None:
    document = {
        **example("findings.json"),
        "lessons_learned": ["x" * 10_000] * 100,
        "chronology": [{"date": "2026-03-02", "event": "y" * 10_000}] * 100,
    }
    path = tmp_path / "huge-findings.json"
    path.write_text(json.dumps(document))
    done = cli.run("submit-findings", "PR-ANY", str(path), "--as", "S400")
    assert done.returncode == 2, done.stderr
    assert "findings:" in done.stderr and "bytes of JSON" in done.stderr and "256 KB" in done.stderr
