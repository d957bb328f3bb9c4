"""``credgate list import``, through the CLI, then checked through HTTP."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import main
from tests.conftest import Gateway
from tests.credit_list_support import (
    CHANGES,
    FILED_ON,
    PUBLISHED_ON,
    STATUS,
    bad_check_digit,
    list_actors,
    resident_id,
)


def _row(n: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id_type": "resident_id",
        "id_number": resident_id(n),
        "name": f"测试{n}",
        "case_number": f"(2024)豫0823执{n}号",
        "court_id": "court-wuzhi",
        "filed_on": FILED_ON.isoformat(),
        "basis_issuer": "武陟县人民法院",
        "basis_number": f"(2023)豫0823民初{n}号",
        "obligations": "偿还借款",
        "performance": "not_performed",
        "circumstance": "违反财产报告制度",
        "published_on": PUBLISHED_ON.isoformat(),
    }
    row.update(changes)
    return row


def _lines() -> list[str]:
    """Nine rows: four good ones and one of each kind of rejection (lines 2 to 8)."""
    return [
        json.dumps(_row(1), ensure_ascii=False),
        json.dumps(_row(2, id_number=bad_check_digit(resident_id(2))), ensure_ascii=False),
        json.dumps(_row(3, court_id="court-nowhere"), ensure_ascii=False),
        json.dumps(_row(1), ensure_ascii=False),  # same debtor, same case as line 1
        '{"id_type": "resident_id", "id_number": ',  # truncated
        json.dumps(_row(6, circumstance="欠钱"), ensure_ascii=False),
        "",  # blank lines are skipped, not rejected
        "[1, 2]",
        json.dumps(_row(9), ensure_ascii=False),
        json.dumps(
            _row(10, id_type="uscc", id_number="91410800MA44TB0F3K", legal_representative="王强"),
            ensure_ascii=False,
        ),
        json.dumps(_row(11), ensure_ascii=False),
    ]


EXPECTED = [
    "line 2: BAD_ID: subject.id_number: wrong check digit.",
    "line 3: UNKNOWN_COURT: no court 'court-nowhere'",
    "line 4: DUPLICATE: debtor already listed in case (2024)豫0823执1号",
    "line 5: MALFORMED_LINE: not JSON: unexpected end of data",
    "line 6: INVALID_FIELD: circumstance must be one of: refuses_despite_ability, "
    "obstructs_enforcement, evades_enforcement, violates_property_reporting, "
    "violates_consumption_restriction, breaches_settlement.",
    "line 8: MALFORMED_LINE: not a JSON object",
]


def _import(gateway: Gateway, path: Path, *extra: str) -> int:
    config = str(gateway.settings.config_file)
    return main(["list", "import", str(path), "--config", config, "--quiet", *extra])


@pytest.mark.parametrize("jobs", ["1", "2"])
async def test_jsonl_import_reports_bad_lines_and_keeps_good_ones(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str], jobs: str
) -> None:
    actors = await list_actors(gateway)
    path = tmp_path / "list.jsonl"
    path.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    assert _import(gateway, path, "--jobs", jobs, "--chunk-size", "3") == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == EXPECTED
    assert out[-1].startswith("imported 4 of 10 rows in ")
    assert out[-1].endswith(
        "6 rejected (1 BAD_ID, 1 DUPLICATE, 1 INVALID_FIELD, 2 MALFORMED_LINE, 1 UNKNOWN_COURT)"
    )
    subjects = [{"residentId": resident_id(n)} for n in (1, 3, 9, 11)]
    status = (await actors.ok(actors.bank, STATUS, {"subjects": subjects}))["dishonestStatus"]
    assert [s["listed"] for s in status] == [True, False, True, True]
    feed = (await actors.ok(actors.bank, CHANGES, {"first": 100}))["dishonestListChanges"]
    assert [c["entry"]["caseNumber"] for c in feed["changes"]] == [
        f"(2024)豫0823执{n}号" for n in (1, 9, 10, 11)
    ]
    assert feed["changes"][2]["entry"]["legalRepresentative"] == "王强"

    # A second run of the same file adds nothing: every good row is now a duplicate.
    assert _import(gateway, path) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("imported 0 of 10 rows")


async def test_csv_import(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    actors = await list_actors(gateway)
    columns = list(_row(1))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow(_row(1).values())
    writer.writerow([*_row(2).values(), "extra"])
    writer.writerow(_row(3, obligations="偿还借款\n及利息").values())  # a quoted line break
    writer.writerow(_row(4, id_number="41082319800101").values())
    path = tmp_path / "list.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert _import(gateway, path) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:-1] == [
        "line 3: MALFORMED_LINE: 13 fields, the header has 12",
        "line 6: BAD_ID: subject.id_number: must be 18 characters.",
    ]
    status = (await actors.ok(actors.bank, STATUS, {"subjects": [{"residentId": resident_id(3)}]}))[
        "dishonestStatus"
    ]
    assert status[0]["listed"] is True


async def test_missing_file_is_refused(gateway: Gateway, tmp_path: Path) -> None:
    assert _import(gateway, tmp_path / "none.jsonl") == 2


async def test_import_refuses_minors_and_keeps_circumstances_and_associates(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    actors = await list_actors(gateway)
    company = _row(
        2,
        id_type="uscc",
        id_number="91410800MA44TB0F3K",
        circumstances=[
            "obstructs_enforcement",
            "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
        ],
        associates=[{"role": "法定代表人", "id_number": resident_id(7), "name": "王强"}],
    )
    del company["circumstance"]
    lines = [
        json.dumps(_row(1, id_number=resident_id(1, born="20150601")), ensure_ascii=False),
        json.dumps(company, ensure_ascii=False),
    ]
    path = tmp_path / "list.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _import(gateway, path) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("line 1: MINOR_DEBTOR: The debtor was ")
    feed = (await actors.ok(actors.bank, CHANGES, {"first": 10}))["dishonestListChanges"]
    [change] = feed["changes"]
    assert change["entry"]["circumstances"] == ["OBSTRUCTS_ENFORCEMENT", "EVADES_ENFORCEMENT"]
    assert change["entry"]["legalRepresentative"] == "王强"
    assert change["entry"]["associates"] == [
        {"role": "LEGAL_REPRESENTATIVE", "name": "王强", "idNumber": resident_id(7)}
    ]
    # CSV writes several circumstances in one cell, separated by ";".
    csv_path = tmp_path / "list.csv"
    row = _row(3, circumstance="", circumstances="violates_property_reporting;breaches_settlement")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(row))
    writer.writerow(row.values())
    csv_path.write_text(buffer.getvalue(), encoding="utf-8")
    assert _import(gateway, csv_path) == 0
    feed = (await actors.ok(actors.bank, CHANGES, {"after": "1", "first": 10}))[
        "dishonestListChanges"
    ]
    assert feed["changes"][0]["entry"]["circumstances"] == [
        "VIOLATES_PROPERTY_REPORTING",
        "BREACHES_SETTLEMENT",
    ]
