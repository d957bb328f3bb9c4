"""Cases ended by 终结本次执行程序: concluded, yet their assets are re-queried, through HTTP."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path

from gateway.cli import main
from tests.investigation.conftest import Investigator, subject_of

MY_CASES = "{ myCases { caseNumber status } }"


async def test_a_terminated_case_is_open_to_a_re_query_of_assets(
    investigator: Investigator,
) -> None:
    entry = investigator.case()
    terminated = dataclasses.replace(
        entry, status="terminated", terminated_on=datetime.date(2025, 3, 1)
    )
    investigator.gateway.services.cases.save(terminated)

    cases = (await investigator.gateway.graphql(investigator.token, MY_CASES)).json()
    statuses = {c["caseNumber"]: c["status"] for c in cases["data"]["myCases"]}
    assert statuses[entry.case_number] == "terminated"
    body = await investigator.investigate(terminated)
    assert "errors" not in body, body["errors"]
    assert investigator.asked()

    # Enforcement resumed: the case is open again and the termination is gone.
    investigator.gateway.services.cases.save(entry)
    stored = investigator.gateway.services.cases.case(entry.case_number)
    assert stored is not None
    assert (stored.status, stored.terminated_on) == ("open", None)


async def test_a_closed_case_stays_refused(investigator: Investigator) -> None:
    closed = investigator.case(status="closed")
    response = await investigator.post(closed.case_number, subject_of(closed))
    assert response.json()["errors"][0]["extensions"]["reason"] == "CASE_CLOSED"


async def test_cases_import_reads_the_terminated_status(
    investigator: Investigator, tmp_path: Path
) -> None:
    entry = investigator.case()
    line = {
        "case_number": entry.case_number,
        "court": {"id": entry.court.id, "name": entry.court.name},
        "status": "terminated",
        "terminated_on": "2025-06-30",
        "filed_on": entry.filed_on.isoformat(),
        "document": {"type": entry.document.type, "number": entry.document.number},
        "officers": [{"id": officer.id} for officer in entry.officers],
        "respondents": [
            {"resident_id" if r.id_type == "resident_id" else "credit_code": r.id_number}
            for r in entry.respondents
        ],
    }
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    config = str(investigator.gateway.settings.config_file)
    assert main(["cases", "import", str(path), "--config", config]) == 0
    stored = investigator.gateway.services.cases.case(entry.case_number)
    assert stored is not None
    assert (stored.status, stored.terminated_on) == ("terminated", datetime.date(2025, 6, 30))
