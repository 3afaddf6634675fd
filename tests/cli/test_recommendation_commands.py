"""`peer-review recommendation ...` and the register through the real command, worker and dev server."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

from tests.cli.conftest import Cli
from tests.cli.test_auditor import completed_review


def tracked(cli: Cli, rec_id: str) -> dict[str, Any]:
    for _ in range(100):
        done = cli.run("recommendation", "show", rec_id, "--as", "S500", "--json")
        if done.returncode == 0:
            view: dict[str, Any] = json.loads(done.stdout)
            if view["due_at"]:
                return view
        time.sleep(0.1)
    raise AssertionError(f"{rec_id} was never tracked: {done.stderr}")


def test_a_local_recommendation_taken_to_verified_and_the_register(cli: Cli) -> None:
    ref = completed_review(cli)
    local = f"{ref}-R1"
    assert tracked(cli, local)["status"] == "proposed"
    # Exit codes: 2 invalid input naming the field, 3 refused, 4 unknown.
    missing = cli.run("recommendation", "decline", local, "--as", "S302")
    assert missing.returncode == 2 and "--rationale" in missing.stderr
    bad = cli.run("recommendation", "show", "not a rec", "--as", "S302")
    assert bad.returncode == 2 and "REC-ID" in bad.stderr
    assert cli.run("recommendation", "show", f"{ref}-R9", "--as", "S500").returncode == 4
    refused = cli.run("recommendation", "accept", local, "--as", "S300")
    assert refused.returncode == 3 and "only the owner may accept" in refused.stderr
    assert cli.run("recommendation", "show", local, "--as", "S401").returncode == 3

    assert cli.json("recommendation", "accept", local, "--as", "S302")["status"] == "accepted"
    assert cli.json("recommendation", "start", local, "--as", "S302")["status"] == "in_progress"
    done = cli.json("recommendation", "implement", local, "--as", "S302", "--evidence", "Audit of March attached")
    assert done["status"] == "implemented" and done["evidence"] == "Audit of March attached"
    assert cli.json("recommendation", "verify", local, "--as", "S100")["status"] == "verified"

    # The register: the owner sees its own, filtered; CSV for spreadsheets.
    for _ in range(100):
        mine = cli.json("recommendations", "--as", "S302", "--owner", "T-LEEDS-COMPLAINTS")
        if any(item["recommendation_id"] == local and item["status"] == "verified" for item in mine):
            break
        time.sleep(0.1)
    assert all(item["owner"] == "T-LEEDS-COMPLAINTS" for item in mine)
    assert any(item["recommendation_id"] == local and item["status"] == "verified" for item in mine)
    national = cli.json("recommendations", "--as", "S600", "--level", "national", "--status", "proposed")
    assert f"{ref}-R2" in [item["recommendation_id"] for item in national]
    rows = list(csv.DictReader(io.StringIO(cli.run("recommendations", "--as", "S500", "--csv").stdout)))
    assert {"recommendation_id", "status", "due_at", "overdue"} <= set(rows[0])
