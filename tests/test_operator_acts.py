"""Bulk imports from the CLI are on the audit log, seen by auditors over GraphQL."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from gateway.audit.log import AuditLog
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.cli import main
from tests.conftest import Gateway

EXAMPLES = Path(__file__).parents[1] / "examples"

EVENTS = """
query Events($filter: AuditEventFilter) {
  auditEvents(filter: $filter, first: 50) {
    edges { node {
      index kind outcome operationName courtId
      principal { subject clientId role }
      operatorAct { command operator fileName fileSha256 accepted refused unchanged courts }
      entry
    } }
  }
}
"""


async def _operator_events(gateway: Gateway, **filter: Any) -> list[dict[str, Any]]:
    name = f"auditor-{secrets.token_hex(4)}"
    client_id, secret = gateway.register(name, Role.AUDITOR, {scopes.AUDIT_READ})
    token = await gateway.token(client_id, secret)
    response = await gateway.graphql(token, EVENTS, {"filter": filter or None})
    assert response.status_code == 200, response.text
    nodes = [edge["node"] for edge in response.json()["data"]["auditEvents"]["edges"]]
    return [node for node in nodes if node["operatorAct"] is not None]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_cases_import_is_on_record_for_auditors(gateway: Gateway) -> None:
    data_dir = str(gateway.settings.data_dir)
    cases = EXAMPLES / "cases.jsonl"
    argv = ["cases", "import", str(cases), "--data-dir", data_dir, "--operator", "alice"]
    assert main(argv) == 0
    assert main(argv) == 0  # again: nothing changes, and that is on record too

    events = await _operator_events(gateway, kind="outcome")
    assert [(e["outcome"], e["courtId"]) for e in events] == [("ok", "court-wuzhi"), ("ok", None)]
    # The court of the cases written: an import that changed nothing concerns no court.
    by_court = await _operator_events(gateway, courtId="court-wuzhi")
    assert [e["index"] for e in by_court] == [events[0]["index"]]
    first, again = (e["operatorAct"] for e in events)
    assert first == {
        "command": "cases import",
        "operator": "alice",
        "fileName": "cases.jsonl",
        "fileSha256": _sha256(cases),
        "accepted": 2,
        "refused": 0,
        "unchanged": 0,
        "courts": ["court-wuzhi"],
    }
    assert (again["accepted"], again["unchanged"]) == (0, 2)
    assert events[0]["principal"] == {
        "subject": "alice",
        "clientId": "credgate-cli",
        "role": "operator",
    }
    assert events[0]["operationName"] == "casesImport"
    # The signed entry says the same (the projection columns are derived from it).
    entry = json.loads(events[0]["entry"])
    assert entry["operatorAct"]["file"]["sha256"] == _sha256(cases)
    assert entry["authority"]["courtId"] == "court-wuzhi"

    # Each import also wrote its intent before touching the cases.
    intents = await _operator_events(gateway, kind="intent")
    assert [(e["operatorAct"]["command"], e["outcome"]) for e in intents] == [
        ("cases import", "pending"),
        ("cases import", "pending"),
    ]
    assert intents[0]["index"] < events[0]["index"]
    assert intents[0]["operatorAct"]["accepted"] is None


async def test_a_list_import_is_on_record_with_its_counts(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = str(gateway.settings.data_dir)
    assert main(["cases", "import", str(EXAMPLES / "cases.jsonl"), "--data-dir", data_dir]) == 0
    listing = tmp_path / "list.jsonl"
    good = (EXAMPLES / "dishonest-list.jsonl").read_text(encoding="utf-8")
    listing.write_text(good + '{"courtId": "court-wuzhi"}\n', encoding="utf-8")
    argv = ["list", "import", str(listing), "--data-dir", data_dir, "--quiet", "--operator", "bob"]
    assert main(argv) == 1  # one line refused
    assert main(argv) == 1
    assert "recorded as audit event" in capsys.readouterr().err

    events = [e for e in await _operator_events(gateway) if e["operationName"] == "listImport"]
    assert [e["kind"] for e in events] == ["intent", "outcome", "intent", "outcome"]
    first, again = events[1], events[3]
    assert first["outcome"] == "error"  # a line was refused
    assert first["courtId"] == "court-wuzhi"
    assert first["operatorAct"] == {
        "command": "list import",
        "operator": "bob",
        "fileName": "list.jsonl",
        "fileSha256": _sha256(listing),
        "accepted": 2,
        "refused": 1,
        "unchanged": 0,
        "courts": ["court-wuzhi"],
    }
    act = again["operatorAct"]
    assert (act["accepted"], act["refused"], act["unchanged"]) == (0, 1, 2)
    assert again["courtId"] is None  # nothing imported: no court


def test_an_import_that_cannot_be_audited_imports_nothing(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(self: AuditLog, drafts: object) -> object:
        raise OperationalError("INSERT INTO audit_events", {}, Exception("disk I/O error"))

    monkeypatch.setattr(AuditLog, "append_blocking", refuse)
    data_dir = str(gateway.settings.data_dir)
    cases = str(EXAMPLES / "cases.jsonl")
    assert main(["cases", "import", cases, "--data-dir", data_dir]) == 2
    err = capsys.readouterr().err
    assert "the audit log could not record `credgate cases import` (disk I/O error)" in err
    listing = str(EXAMPLES / "dishonest-list.jsonl")
    assert main(["list", "import", listing, "--data-dir", data_dir, "--quiet"]) == 2

    monkeypatch.undo()
    # Nothing was imported: the next import finds every case and entry new.
    assert main(["cases", "import", cases, "--data-dir", data_dir]) == 0
    assert main(["list", "import", listing, "--data-dir", data_dir, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "imported 2 cases (2 new, 0 updated, 0 unchanged)" in out
    assert "imported 2 of 2 rows" in out


@pytest.mark.parametrize("name", ["cases.jsonl", "dishonest-list.jsonl", "dishonest-list.csv"])
def test_the_example_files_import_cleanly(
    gateway: Gateway, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = str(gateway.settings.data_dir)
    assert main(["cases", "import", str(EXAMPLES / "cases.jsonl"), "--data-dir", data_dir]) == 0
    if name != "cases.jsonl":
        assert (
            main(["list", "import", str(EXAMPLES / name), "--data-dir", data_dir, "--quiet"]) == 0
        )
    out, err = capsys.readouterr()
    assert "refused" not in err
    assert "line " not in out
