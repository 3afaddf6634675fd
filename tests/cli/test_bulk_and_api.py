"""`refer-bulk` and `api` through a real command line process, and the bulk parser on its own."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from peer_review.cli import bulk_import as bulk
from tests.helpers import EXAMPLES, ROOT, TEST_KEY_FILE, example
from tests.helpers.staff import CHAIR
from tests.helpers.web import SECRET, as_


@pytest.fixture(scope="module")
def cli_env(env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data = tmp_path_factory.mktemp("extra-cli")
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "PEER_REVIEW_TASK_QUEUE": f"bulk-{uuid.uuid4()}",  # no worker needed: starting returns at once
        "PEER_REVIEW_RECORDS_URL": f"sqlite+aiosqlite:///{data / 'records.db'}",
        "PEER_REVIEW_DIRECTORY": str(EXAMPLES / "directory.yaml"),
        "PEER_REVIEW_KEY_FILE": str(TEST_KEY_FILE),
        "PEER_REVIEW_JWT_SECRET": SECRET,
        "PEER_REVIEW_LOG_FORMAT": "json",
    }


def run(variables: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).parent / "peer-review"), *args]
    return subprocess.run(command, env=variables, cwd=ROOT, capture_output=True, text=True, timeout=60)


def referral_json(**changes: Any) -> dict[str, Any]:
    return {**example("referral-persistent.json"), "referral_id": f"B-{uuid.uuid4().hex[:10]}", **changes}


def test_refer_bulk_jsonl_starts_the_valid_lines_and_reports_the_rest(cli_env: dict[str, str], tmp_path: Path) -> None:
    good, other = referral_json(), referral_json()
    lines = [
        json.dumps(good),
        "",
        "{not json",
        json.dumps(referral_json(reasons=["bogus"])),
        json.dumps(other),
        json.dumps(good),  # the same id again: already started, never a second review
        json.dumps(referral_json(referred_by="S999")),  # valid shape, unknown to the directory
    ]
    path = tmp_path / "referrals.jsonl"
    path.write_text("\n".join(lines) + "\n")
    done = run(cli_env, "refer-bulk", str(path), "--json")
    assert done.returncode == 2, done.stderr
    report = json.loads(done.stdout)
    assert (report["started"], report["already_started"], report["invalid"]) == (2, 1, 3)
    by_line = {item["line"]: item for item in report["lines"]}
    assert by_line[1]["outcome"] == "started" and by_line[1]["status"] == "referred"
    assert by_line[3]["outcome"] == "invalid" and "not valid JSON" in by_line[3]["reason"]
    assert by_line[4]["outcome"] == "invalid" and "reasons" in by_line[4]["reason"]
    assert by_line[6]["outcome"] == "already_started" and by_line[6]["referral_id"] == good["referral_id"]
    assert by_line[7]["outcome"] == "invalid" and "referred_by" in by_line[7]["reason"]

    again = run(cli_env, "refer-bulk", str(path))  # the human summary; everything valid now exists
    assert again.returncode == 2
    assert (
        "already started" in again.stdout and "Lines not started" in again.stdout and "not valid JSON" in again.stdout
    )


def csv_text(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def csv_row(**changes: Any) -> dict[str, Any]:
    data = referral_json()
    customer = data.pop("customer")
    row = {
        **data,
        "reasons": "|".join(data["reasons"]),
        "issues_raised": "|".join(data["issues_raised"]),
        "other_reason": data["other_reason"] or "",
        "customer_reference": customer["reference"],
        "customer_additional_needs": "no",
    }
    return {**row, **changes}


def test_refer_bulk_csv_exits_0_when_every_line_is_valid(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "referrals.csv"
    path.write_text(csv_text([csv_row(), csv_row(summary="Two lines\nin one quoted cell"), csv_row()]))
    done = run(cli_env, "refer-bulk", str(path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["started"] == 3


def test_refer_bulk_says_plainly_when_temporal_is_unreachable(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "referrals.jsonl"
    path.write_text(json.dumps(referral_json()) + "\n")
    done = run({**cli_env, "TEMPORAL_ADDRESS": "127.0.0.1:1"}, "refer-bulk", str(path), "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["not_started"] == 1
    assert "cannot reach the Temporal server" in report["lines"][0]["reason"]


def test_csv_parsing_names_fields_and_line_numbers() -> None:
    text = csv_text([csv_row(), csv_row(complaint_made="perhaps"), csv_row(colour="red"), csv_row(reasons="")])
    parsed = bulk.parse(text, bulk.detect_format("x.csv", text))
    assert [item.line for item in parsed] == [2, 3, 4, 5]
    assert parsed[0].referral is not None and parsed[0].referral.customer.additional_needs is False
    assert parsed[1].problem and "complaint_made" in parsed[1].problem
    assert parsed[2].problem and "colour" in parsed[2].problem
    assert parsed[3].problem and "reasons" in parsed[3].problem
    assert bulk.detect_format("-", '{"a": 1}') == "jsonl" and bulk.detect_format("-", "a,b\n") == "csv"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def api_process(cli_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    variables = {**cli_env, "PEER_REVIEW_API_PORT": str(port)}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "peer-review"), "api"],
        env=variables,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
    yield url
    process.terminate()
    assert process.wait(timeout=20) == 0


def test_the_api_command_serves_on_the_configured_port(api_process: str) -> None:
    assert httpx.get(f"{api_process}/openapi.json").json()["info"]["title"] == "Peer Review API"
    unknown = httpx.get(f"{api_process}/referrals/NO-SUCH-REF", headers=as_(CHAIR))
    assert unknown.status_code == 404  # signed in with the configured secret and asked Temporal
    assert httpx.get(f"{api_process}/referrals/NO-SUCH-REF").status_code == 401
