"""The command line's reads against every kind of person: each one answers by the read rule (exit 3 otherwise),
and each one, allowed or not, is in the access log with the operator who ran it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from peer_review.records.store import RecordsStore
from tests.cli.conftest import Cli
from tests.helpers import EXAMPLES
from tests.helpers.staff import OUTSIDERS, READERS

PEOPLE = {**READERS, **{person: (staff_id, False) for person, staff_id in OUTSIDERS.items()}}
READS = [("status",), ("audit",), ("history",), ("export", "--format", "json")]


def test_every_cli_read_against_every_person(cli: Cli) -> None:
    ref = cli.referred("complex-issue", "awaiting_chair_decision")
    cli.json("approve", ref, "--as", "S100")
    cli.json("assign-reviewer", ref, "--reviewer", "S400", "--as", "S100")
    cli.json("submit-findings", ref, str(EXAMPLES / "findings.json"), "--as", "S400")
    for _ in range(100):  # the records trail the review by a moment
        if "submit_findings" in cli.run("audit", ref, "--as", "S500", "--json").stdout:
            break
        time.sleep(0.1)
    asks = [(person, staff_id, allowed, read) for person, (staff_id, allowed) in PEOPLE.items() for read in READS]
    # Each read is a process of its own that mostly waits on the server: four at a time.
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda ask: cli.run(ask[3][0], ref, *ask[3][1:], "--as", ask[1]), asks))
    for (person, _, allowed, read), done in zip(asks, answers, strict=True):
        assert done.returncode == (0 if allowed else 3), (person, read, done.stderr)
    records = RecordsStore.from_url(cli.variables["PEER_REVIEW_RECORDS_URL"])

    async def logged() -> list[tuple[str, str, bool, str | None]]:
        try:
            return [(e.reader, e.what, e.allowed, e.proven_by) for e in await records.access_entries(ref)]
        finally:
            await records.close()

    log = asyncio.run(logged())
    for person, (staff_id, allowed) in PEOPLE.items():
        if person in OUTSIDERS:
            continue  # refused before any review is looked at: logged as a refused sign-in for S900
        mine = {(what, ok) for reader, what, ok, _ in log if reader == staff_id}
        assert mine == {(what, allowed) for what in ("status", "audit", "history", "export")}, person
    assert all(proven and proven.startswith("operator ") for *_, proven in log)


def test_a_listing_is_logged_and_not_shown_when_the_log_cannot_be_written(cli: Cli, tmp_path: Path) -> None:
    def listings() -> Counter[str]:
        async def entries() -> Counter[str]:
            records = RecordsStore.from_url(cli.variables["PEER_REVIEW_RECORDS_URL"])
            try:
                return Counter(e.reader for e in await records.access_entries() if e.what == "list")
            finally:
                await records.close()

        return asyncio.run(entries())

    ref = cli.referred("complex-issue", "awaiting_chair_decision")  # the worker is up, and has made the records
    before = listings()
    assert ref in [item["referral_id"] for item in cli.json("list", "--as", "S100")]
    table = cli.run("list", "--as", "S500", "--status", "awaiting_chair_decision")
    assert table.returncode == 0 and "review(s)" in table.stdout
    assert listings() - before == Counter({"S100": 1, "S500": 1})

    # The log lives in the records database: where it cannot be written, the listing is refused, not shown.
    nowhere = f"sqlite+aiosqlite:///{tmp_path}/no/such/folder/records.db"
    unwritable = Cli({**cli.variables, "PEER_REVIEW_RECORDS_URL": nowhere}, tmp_path)
    refused = unwritable.run("list", "--as", "S500", "--json")
    assert refused.returncode != 0 and "cannot read the records database" in refused.stderr
    assert refused.stdout == ""
