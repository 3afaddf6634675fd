"""Auditors read the records database: export (full and redacted) and the recommendations register."""

from __future__ import annotations

import csv
import io
import json

from tests.cli.conftest import Cli
from tests.helpers import EXAMPLES


def completed_review(cli: Cli) -> str:
    ref = cli.referred(
        "complex-issue", "awaiting_chair_decision", summary="Private summary ZQX", customer={"reference": "C-ZQX9"}
    )
    cli.json("approve", ref, "--as", "S100")
    cli.json("assign-reviewer", ref, "--reviewer", "S400", "--as", "S100")
    cli.json("submit-findings", ref, str(EXAMPLES / "findings.json"), "--as", "S400")
    cli.json("sign-off", ref, "--as", "S100")
    cli.wait_until_finished(ref)
    return ref


def test_exports_and_the_recommendations_register(cli: Cli) -> None:
    ref = completed_review(cli)

    full = json.loads(cli.run("export", ref, "--as", "S500").stdout)
    assert full["referral"]["summary"] == "Private summary ZQX" and full["chain_valid"] is True
    assert full["findings"]["customer_journey"] and full["audit_events"][0]["action"] == "referred"

    redacted_run = cli.run("export", ref, "--as", "S300", "--redacted")
    assert redacted_run.returncode == 0
    redacted = json.loads(redacted_run.stdout)
    assert redacted["outcome"] == "completed" and len(redacted["recommendations"]) == 2
    for private in ("ZQX", "S100", "S300", "S400", "T-LEEDS", "T-COMPLAINTS", "Payment stopped", "Ann Chair", "Leeds"):
        assert private not in redacted_run.stdout
    # In place of each owner, the team's function from the directory.
    assert [r["owner"] for r in redacted["recommendations"]] == ["Complaints handling", "Complaints policy"]

    # The referrer may read their own referral; a caseworker with no part in it may not.
    assert cli.run("export", ref, "--as", "S300").returncode == 0
    refused = cli.run("export", ref, "--as", "S302")
    assert refused.returncode == 3 and "may not read" in refused.stderr
    assert cli.run("export", ref, "--as", "S999", "--redacted").returncode == 3
    assert cli.run("export", "NO-SUCH", "--as", "S500").returncode == 4

    rows = list(csv.reader(io.StringIO(cli.run("export", ref, "--as", "S200", "--format", "csv").stdout)))
    assert rows[0] == ["field", "value"] and ["referral.referral_id", ref] in rows
    page = cli.run("export", ref, "--as", "S500", "--format", "html").stdout
    assert page.startswith("<!doctype html>") and ref in page and "<script" not in page

    national = cli.json("recommendations", "--level", "national", "--as", "S500")
    assert {"referral_id": ref, "level": "national"}.items() <= next(
        item for item in national if item["referral_id"] == ref
    ).items()
    assert all(item["level"] == "national" for item in national)
