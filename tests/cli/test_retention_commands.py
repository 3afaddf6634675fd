"""The retention commands as users run them: hold, release, list --held, status --as-of, retention run (dry and
real), audit --verify of a disposed review and audit --verify-all. Exit codes and --json shapes (README, DESIGN §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cli.conftest import Cli
from tests.helpers.staff import AUDITOR, FOCAL, REFERRER


def closed_review(cli: Cli) -> str:
    """A review withdrawn by its referrer, once its workflow has finished and so its whole record is written."""
    ref = cli.referred("complex-issue", "awaiting_chair_decision")
    cli.json("withdraw", ref, "--reason", "Resolved locally", "--as", REFERRER)
    cli.wait_until_finished(ref)
    recorded = cli.json("status", ref, "--as-of", datetime.now(UTC).isoformat(), "--as", AUDITOR)
    assert recorded["status"] == "closed", recorded
    return ref


def test_holds_as_of_and_a_retention_run_through_the_command_line(own_records_cli: Cli) -> None:
    cli = own_records_cli
    gone, kept = closed_review(cli), closed_review(cli)

    # Legal holds: the Focal Point and auditors only; a reason is required; one hold at a time.
    held = cli.json("hold", kept, "--reason", "Coroner's inquest", "--as", AUDITOR)
    assert held == {"referral_id": kept, "held": True, "register_seq": held["register_seq"]}
    assert isinstance(held["register_seq"], int)
    assert cli.run("hold", gone, "--reason", "Mine", "--as", REFERRER).returncode == 3
    assert cli.run("hold", kept, "--reason", "Again", "--as", FOCAL).returncode == 3  # already held
    blank = cli.run("hold", gone, "--reason", " ", "--as", AUDITOR)
    assert blank.returncode == 2 and "--reason" in blank.stderr
    assert cli.run("hold", "PR-NO-SUCH", "--reason", "Why", "--as", AUDITOR).returncode == 4
    assert cli.run("release", gone, "--reason", "Not held", "--as", AUDITOR).returncode == 3

    listed = cli.json("list", "--held", "--as", AUDITOR)
    assert [row["referral_id"] for row in listed] == [kept]
    assert set(listed[0]) == {"referral_id", "status", "outcome", "osn", "reasons", "held", "referred_at", "updated_at"}
    assert (listed[0]["status"], listed[0]["outcome"], listed[0]["held"]) == ("closed", "withdrawn", True)
    assert cli.json("list", "--held", "--as", "S400") == []  # the read rule: not theirs

    # As it stood: before the referral there was nothing; at the end, closed and withdrawn.
    referred = cli.json("audit", gone, "--as", AUDITOR)["events"][0]["at"]
    before = datetime.fromisoformat(referred) - timedelta(seconds=1)
    assert cli.run("status", gone, "--as-of", before.isoformat(), "--as", AUDITOR).returncode == 4
    now = cli.json("status", gone, "--as-of", datetime.now(UTC).isoformat(), "--as", AUDITOR)
    assert {"referral_id", "as_of", "status", "outcome", "chair", "reviewer", "deadline", "overdue"} <= set(now)
    assert (now["status"], now["outcome"]) == ("closed", "withdrawn")
    assert [decision["action"] for decision in now["decisions"]] == ["withdraw"]
    bad = cli.run("status", gone, "--as-of", "yesterday-ish", "--as", AUDITOR)
    assert bad.returncode == 2 and "--as-of" in bad.stderr
    assert cli.run("status", gone, "--as-of", "2026-01-01").returncode == 2  # --as is required with --as-of
    assert cli.run("status", gone, "--as-of", datetime.now(UTC).isoformat(), "--as", "S400").returncode == 3

    # A dry run lists what would go and destroys nothing; the held review is not among it.
    dry = cli.json("retention", "run", "--dry-run")
    assert (dry["dry_run"], dry["reviews"], dry["would_dispose"], dry["audit_events"]) == (True, 1, [gone], 0)
    assert cli.json("audit", gone, "--verify", "--as", AUDITOR)["chain_valid"] is True

    done = cli.json("retention", "run")
    assert (done["dry_run"], done["reviews"], done["batches"]) == (False, 1, 1)
    assert done["audit_events"] > 0
    assert cli.json("retention", "run")["reviews"] == 0  # idempotent: nothing left to dispose of

    certificate = cli.json("audit", gone, "--verify", "--as", AUDITOR)
    assert (certificate["disposed"], certificate["certificate_valid"]) == (True, True)
    assert certificate["disposed_on"] == datetime.now(UTC).date().isoformat()
    assert certificate["certificate"]["referral_id"] == gone
    assert cli.run("audit", gone, "--verify", "--as", REFERRER).returncode == 3  # a certificate: auditors only
    assert cli.run("status", gone, "--as-of", datetime.now(UTC).isoformat(), "--as", AUDITOR).returncode == 4

    everything = cli.json("audit", "--verify-all", "--as", AUDITOR)
    assert (everything["valid"], everything["problems"], everything["certificates"]) == (True, [], 1)
    assert everything["holds_in_force"] == 1 and everything["reviews"] == everything["reviews_valid"] == 1
    assert cli.run("audit", "--verify-all", "--as", REFERRER).returncode == 3
    assert cli.run("audit", "--as", AUDITOR).returncode == 2  # REF or --verify-all

    # Released, the held review goes on the next run.
    released = cli.json("release", kept, "--reason", "Inquest closed", "--as", FOCAL)
    assert released["held"] is False
    assert cli.json("list", "--held", "--as", AUDITOR) == []
    assert cli.json("retention", "run")["reviews"] == 1
    assert cli.json("audit", "--verify-all", "--as", AUDITOR)["certificates"] == 2
