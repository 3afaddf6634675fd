"""`peer-review report` through the real command over the hand-worked fixture (tests/records/test_reports.py): the
figures in JSON and CSV, an HTML document with plots and no script, the read rule and the exit codes."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from peer_review.records.store import RecordsStore
from tests.helpers import EXAMPLES, TEST_KEY_FILE, venv_binary
from tests.records.test_reports import write_fixture

PERIOD = ["--from", "2026-01-01", "--to", "2026-02-28"]


async def test_the_report_command(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'records.db'}"
    store = RecordsStore.from_url(url)
    await store.create_schema()
    await write_fixture(store)
    await store.close()
    variables = {
        **os.environ,
        "PEER_REVIEW_RECORDS_URL": url,
        "PEER_REVIEW_DIRECTORY": str(EXAMPLES / "directory.yaml"),
        "PEER_REVIEW_KEY_FILE": str(TEST_KEY_FILE),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [venv_binary("peer-review"), "report", *PERIOD, *args]
        return subprocess.run(command, env=variables, capture_output=True, text=True, timeout=60, check=False)

    found = json.loads(run("--as", "S600", "--format", "json", "--by", "reason").stdout)
    assert [(r["group"], r["referred"], r["closed"]) for r in found["reviews"]] == [
        ("complex_issue", 2, 2),
        ("persistent_or_vexatious", 2, 2),
    ]
    assert found["median_days_to_implementation"] == 4.0
    csv_text = run("--as", "S500", "--format", "csv", "--by", "stage").stdout
    assert "stages_not_followed,,Acknowledgement,north-east,2,0" in csv_text.replace("\r", "")
    html = run("--as", "S500", "--format", "html").stdout
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script" not in html
    table = run("--as", "S200")
    assert table.returncode == 0 and "Time in each status" in table.stdout
    refused = run("--as", "S100")
    assert refused.returncode == 3 and "may not read reports" in refused.stderr
    bad = run("--as", "S500", "--by", "site")
    assert bad.returncode == 2 and "--by" in bad.stderr
