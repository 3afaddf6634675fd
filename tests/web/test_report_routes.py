"""Reports over HTTP, the reports page and the panel pack, on the hand-worked fixture of tests/records/test_reports.py:
who may read them, the figures, plots drawn on the server with no script, and a pack with nothing that names anyone."""

from __future__ import annotations

import httpx

from peer_review.records.store import RecordsStore
from tests.helpers import AUDITOR, CHAIR, LEEDS_TEAM_CONTACT, NATIONAL_LEAD
from tests.helpers.web import as_, token
from tests.records.test_reports import write_fixture

PERIOD = {"from": "2026-01-01", "to": "2026-02-28"}


def page_as(staff_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(staff_id)}", "Accept": "text/html"}


async def test_reports_for_national_leads_and_auditors_only(http: httpx.AsyncClient, store: RecordsStore) -> None:
    await write_fixture(store)
    for reader in (AUDITOR, NATIONAL_LEAD):
        found = await http.get("/reports", params=PERIOD, headers=as_(reader))
        assert found.status_code == 200, found.text
        assert found.json()["reviews"] == [
            {"group": "2026-01", "referred": 2, "closed": 2},
            {"group": "2026-02", "referred": 1, "closed": 1},
        ]
    for refused in (CHAIR, LEEDS_TEAM_CONTACT):
        assert (await http.get("/reports", params=PERIOD, headers=as_(refused))).status_code == 403
    backwards = await http.get("/reports", params={"from": "2026-02-01", "to": "2026-01-01"}, headers=as_(AUDITOR))
    assert backwards.status_code == 422 and backwards.json()["field"] == "to"
    bad_by = await http.get("/reports", params={**PERIOD, "by": "site"}, headers=as_(AUDITOR))
    assert bad_by.status_code == 422 and bad_by.json()["field"] == "by"
    by_osn = await http.get("/reports", params={**PERIOD, "by": "osn", "format": "csv"}, headers=as_(AUDITOR))
    assert "reviews,,north-east,2,2" in by_osn.text.replace("\r", "")
    access = [entry for entry in await store.access_entries() if entry.what == "report"]
    assert [(entry.reader, entry.allowed) for entry in access][:4] == [
        (AUDITOR, True),
        (NATIONAL_LEAD, True),
        (CHAIR, False),
        (LEEDS_TEAM_CONTACT, False),
    ]


async def test_the_reports_page_and_the_redacted_panel_pack(http: httpx.AsyncClient, store: RecordsStore) -> None:
    await write_fixture(store)
    page = await http.get("/report", params=PERIOD, headers=page_as(NATIONAL_LEAD))
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "<script" not in page.text and "<style" not in page.text
    assert "style=" not in page.text  # refused by the Content-Security-Policy: shapes would draw black
    assert "Acknowledgement" in page.text and "/report/panel-pack?from=2026-01-01" in page.text
    refused = await http.get("/report", params=PERIOD, headers=page_as(CHAIR))
    assert refused.status_code == 403
    bad = await http.get("/report", params={"from": "soon"}, headers=page_as(NATIONAL_LEAD))
    assert bad.status_code == 422 and "from: enter a date" in bad.text

    pack = await http.get("/report/panel-pack", params=PERIOD, headers=page_as(NATIONAL_LEAD))
    assert pack.status_code == 200 and "attachment" in pack.headers["content-disposition"]
    assert "Acknowledge within two days" in pack.text and "<svg" in pack.text
    # Nothing that names a person, a team, a review or a case: ids, owners, referrers, references.
    for named in ("S300", "T-LEEDS-COMPLAINTS", "CASE-", "A-R1", "Leeds", "system"):
        assert named not in pack.text, named
