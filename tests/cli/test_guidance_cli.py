"""Issue 14 through the `peer-review` command and a real worker process: a suicide referral always starts (also in
bulk), `decide` sends the Chair's signal, `add-reason` makes a review mandatory in place, related reviews are
reported, separation of duties refuses with exit 3, and the site reads its feedback after closure."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.cli.conftest import Cli
from tests.helpers import EXAMPLES, example


def audit_until(cli: Cli, ref: str, action: str) -> list[dict[str, Any]]:
    for _ in range(100):
        events: list[dict[str, Any]] = cli.json("audit", ref, "--as", "S500")["events"]
        if any(e["action"] == action for e in events):
            return events
        time.sleep(0.1)
    raise AssertionError(f"{action} never reached the audit record of {ref}")


def test_a_suicide_referral_starts_whatever_the_directory_lacks_also_in_bulk(cli: Cli) -> None:
    ref, path = cli.referral_file("suicide", osn="no-chair-here", referred_by="S999")
    started = cli.json("refer", path)
    assert started["already_started"] is False
    view = cli.wait_for(ref, "awaiting_reviewer")
    assert view["mandatory"] is True and view["chair"] is None
    events = audit_until(cli, ref, "escalated")
    assert [e["detail"] for e in events if e["action"] == "directory_warning"] == [
        "referrer is not in the staff directory",
        "no OSN Chair listed for no-chair-here",
    ]
    # Any other referral with the same gaps is still refused, naming the field.
    _, other = cli.referral_file("complex-issue", osn="no-chair-here")
    refused = cli.run("refer", other)
    assert refused.returncode == 2 and "osn: no OSN Chair is listed" in refused.stderr

    mandatory = {**example("referral-suicide.json"), "referral_id": f"{ref}-B", "osn": "no-chair-here"}
    optional = {**example("referral-persistent.json"), "referral_id": f"{ref}-C", "osn": "no-chair-here"}
    lines = "\n".join(json.dumps(item) for item in (mandatory, optional))
    bulk = cli.run("refer-bulk", "-", "--json", stdin=lines)
    outcomes = {line["referral_id"]: line["outcome"] for line in json.loads(bulk.stdout)["lines"]}
    assert outcomes == {f"{ref}-B": "started", f"{ref}-C": "invalid"} and bulk.returncode == 2


def test_decide_sends_the_chairs_signal_and_a_refused_decision_is_audited(cli: Cli) -> None:
    ref = cli.referred("persistent", "awaiting_chair_decision")
    sent = cli.run("decide", ref, "approve", "--as", "S400")
    assert sent.returncode == 0 and "Decision sent" in sent.stdout and "applies it" in sent.stdout
    refused = audit_until(cli, ref, "approve_rejected")
    assert [(e["actor"], e["from_status"], e["to_status"]) for e in refused if e["action"] == "approve_rejected"] == [
        ("S400", "awaiting_chair_decision", "awaiting_chair_decision")
    ]
    assert cli.json("status", ref)["status"] == "awaiting_chair_decision"  # the refused decision changed nothing

    answer = cli.json("decide", ref, "approve", "--as", "S100", "--rationale", "Worth a look")
    assert answer == {"referral_id": ref, "decision": "approve", "actor": "S100", "sent": True}
    view = cli.wait_for(ref, "awaiting_reviewer")
    assert view["chair"] == "S100"

    no_rationale = cli.run("decide", ref, "decline", "--as", "S100")
    assert no_rationale.returncode == 2 and "rationale" in no_rationale.stderr
    assert cli.run("decide", "NO-SUCH-REF", "approve", "--as", "S100").returncode == 4
    assert cli.run("decide", ref, "maybe", "--as", "S100").returncode == 2


def test_add_reason_turns_a_complex_issue_review_awaiting_a_decision_into_a_mandatory_one(cli: Cli) -> None:
    ref = cli.referred("complex-issue", "awaiting_chair_decision")
    refused = cli.run("add-reason", ref, "--reason", "suicide_or_alleged_suicide", "--as", "S400")
    assert refused.returncode == 3 and "only the" in refused.stderr
    view = cli.json(
        "add-reason", ref, "--reason", "suicide_or_alleged_suicide", "--as", "S300", "--detail", "Family called"
    )
    assert (view["status"], view["mandatory"], view["priority"]) == ("awaiting_reviewer", True, "high")
    assert view["reasons"] == ["complex_issue", "additional_needs", "suicide_or_alleged_suicide"]
    withdraw = cli.run("withdraw", ref, "--as", "S300", "--reason", "Not needed")
    assert withdraw.returncode == 3 and "mandatory" in withdraw.stderr
    events = audit_until(cli, ref, "chair_decision_skipped")
    assert [e["action"] for e in events if e["actor"] == "S300"][-2:] == ["add_reason", "withdraw_rejected"]
    bad = cli.run("add-reason", ref, "--reason", "bogus", "--as", "S300")
    assert bad.returncode == 2 and "reason" in bad.stderr

    listed = cli.json("list", "--reason", "suicide_or_alleged_suicide", "--as", "S500")
    for _ in range(50):
        if ref in [item["referral_id"] for item in listed]:
            break
        time.sleep(0.1)
        listed = cli.json("list", "--reason", "suicide_or_alleged_suicide", "--as", "S500")
    assert ref in [item["referral_id"] for item in listed]  # the search attributes followed


def test_related_reviews_are_reported_at_refer_and_in_status(cli: Cli) -> None:
    case, customer = f"CMP-{uuid.uuid4().hex[:8]}", f"C-{uuid.uuid4().hex[:8]}"
    first = cli.referred(
        "complex-issue", "awaiting_chair_decision", case_reference=case, customer={"reference": customer}
    )
    for _ in range(100):
        if cli.run("audit", first, "--as", "S500").returncode == 0:  # the first referral is in the records database
            break
        time.sleep(0.1)
    second, path = cli.referral_file("persistent", customer={"reference": customer})
    shown = cli.run("refer", path)
    assert shown.returncode == 0 and f"Related: {first} (same customer reference)" in shown.stdout
    cli.wait_for(second, "awaiting_chair_decision")
    third, path = cli.referral_file("other", case_reference=case)
    related = cli.json("refer", path)["related"]
    assert [(r["referral_id"], r["same"]) for r in related] == [(first, ["case_reference"])]

    for _ in range(100):
        status = cli.json("status", first, "--as", "S500")
        if len(status["related"]) == 2:
            break
        time.sleep(0.1)
    assert {r["referral_id"] for r in status["related"]} == {second, third}
    assert status["journey_stages"] == [
        "Acknowledgement",
        "Investigation",
        "Contact with the customer",
        "Response",
        "Remedy",
    ]
    table = cli.run("status", first, "--as", "S500")
    assert f"Related: {second}" in table.stdout and "Journey stages" in table.stdout


def test_separation_of_duties_and_local_feedback(cli: Cli) -> None:
    ref = cli.referred("complex-issue", "awaiting_chair_decision")
    cli.json("approve", ref, "--as", "S100")
    cli.json("assign-reviewer", ref, "--reviewer", "S101", "--as", "S100")  # the deputy reviews
    cli.json("submit-findings", ref, str(EXAMPLES / "findings.json"), "--as", "S101")
    own = cli.run("sign-off", ref, "--as", "S101")
    assert own.returncode == 3 and "separation of duties: nobody signs off findings they wrote" in own.stderr
    early = cli.run("feedback", ref, "--as", "S300")
    assert early.returncode == 3 and "ready at closure" in early.stderr
    cli.json("sign-off", ref, "--as", "S100")
    assert "sign_off_rejected" in [e["action"] for e in audit_until(cli, ref, "sign_off_rejected")]
    for _ in range(100):
        feedback = cli.run("feedback", ref, "--as", "S302", "--json")
        if feedback.returncode == 0 and json.loads(feedback.stdout)["local_recommendations"]:
            break
        time.sleep(0.1)
    found = json.loads(feedback.stdout)
    assert found["outcome"] == "completed"
    assert [r["owner_function"] for r in found["local_recommendations"]] == ["Complaints handling"]
    assert cli.run("feedback", ref, "--as", "S401").returncode == 3  # a reviewer of other reviews
    human = cli.run("feedback", ref, "--as", "S300")
    assert human.returncode == 0 and "completed" in human.stdout and "Local recommendations" in human.stdout
