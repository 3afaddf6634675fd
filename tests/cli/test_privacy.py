"""Nothing personal reaches Temporal in plaintext: histories, search attributes and logs hold no case text."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from peer_review.temporal.names import RECORD_BATCH
from tests.cli.conftest import Cli, CliEnv
from tests.helpers import EXAMPLES, venv_binary


def test_a_marker_in_the_case_text_appears_nowhere_but_through_the_codec(
    cli: Cli, cli_env: CliEnv, env: WorkflowEnvironment, tmp_path: Path
) -> None:
    marker = f"MARKER{uuid.uuid4().hex}"
    ref, path = cli.referral_file(
        "complex-issue",
        summary=f"The customer said {marker} twice.",
        issues_raised=[f"Issue {marker}"],
        customer={"reference": f"C-{marker[:20]}", "additional_needs": True},
    )
    findings = json.loads((EXAMPLES / "findings.json").read_text())
    findings["issues_addressed"] = [{"issue": f"Issue {marker}", "addressed": True, "notes": f"notes {marker}"}]
    findings["summary"] = f"Findings {marker}"
    findings_path = tmp_path / "findings.json"
    findings_path.write_text(json.dumps(findings))

    cli.json("refer", path)
    cli.wait_for(ref, "awaiting_chair_decision")
    cli.json("approve", ref, "--as", "S100", "--rationale", "ok")
    cli.json("assign-reviewer", ref, "--reviewer", "S400", "--as", "S100")
    cli.json("submit-findings", ref, str(findings_path), "--as", "S400")
    cli.json("sign-off", ref, "--as", "S100")
    cli.wait_for(ref, "closed")
    time.sleep(1)  # let the last records and notifications land in the logs

    # The raw history, read from the server with the temporal CLI and no codec.
    raw = subprocess.run(
        [
            venv_binary("temporal"),
            "workflow",
            "show",
            "--address",
            env.client.service_client.config.target_host,
            "--workflow-id",
            f"peer-review-{ref}",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    history_document = json.loads(raw)
    assert len(history_document["events"]) > 20
    decoded_data = " ".join(
        base64.b64decode(chunk).decode("latin-1") for chunk in _base64_values(history_document) if chunk
    )
    for text in (raw, decoded_data):
        assert marker not in text
        assert marker[:20] not in text
    assert "binary/encrypted" in decoded_data  # every payload is sealed

    # Search attributes and the worker's log.
    described = cli.run("list", "--as", "S500", "--json").stdout
    assert marker not in described
    log_lines = [json.loads(line) for line in cli_env.worker_log.read_text().splitlines() if line.startswith("{")]
    assert marker not in json.dumps(log_lines)
    moved = [line for line in log_lines if line.get("event") == "review moved" and line.get("referral_id") == ref]
    assert {line["status"] for line in moved} >= {"awaiting_chair_decision", "closed"}
    assert all(line["workflow_id"] == f"peer-review-{ref}" and line["run_id"] for line in moved)
    # The outbox rows are written by the record write, whose log lines name the review they serve.
    sent = [line for line in log_lines if line.get("referral_id") == ref and line.get("activity") == RECORD_BATCH]
    assert sent and all(line["workflow_id"] == f"peer-review-{ref}" for line in sent)

    # With the codec (the CLI holds the key ring), the history shows the case text.
    history = cli.run("history", ref, "--as", "S500", "--json")
    assert history.returncode == 0 and marker in history.stdout


def _base64_values(node: object) -> list[str]:
    """Every `data` and metadata value in a history JSON document (payloads carry base64 there)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "data" and isinstance(value, str):
                found.append(value)
            elif key == "metadata" and isinstance(value, dict):
                found.extend(v for v in value.values() if isinstance(v, str))
            else:
                found.extend(_base64_values(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_base64_values(item))
    return found
