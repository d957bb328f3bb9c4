"""The issues' "done when" demo flows, against a real `credgate demo` process over HTTP.

One demo process serves the whole module (``python -m gateway.cli demo`` on a
free loopback port, like tests/test_cli.py); every flow uses the clients and
examples `demo.json` hands out, as a person trying the demo would.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import tenacity

from gateway.cli import main
from tests.credit_list_support import CHANGES, SANCTION, SUMMARY

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
LODGING_DAYS = 730  # The shipped public-security policy: stays of the last two years.
_READY_WITHIN_S = 60
_STOP_WITHIN_S = 20


class DemoExited(Exception):
    """The demo process ended before it was ready."""


@dataclass
class Demo:
    """A running demo: its data directory, demo.json and an HTTP client."""

    data_dir: Path
    document: dict[str, Any]
    http: httpx.Client

    def token(self, client: str) -> str:
        """An access token of a demo.json client, from the token endpoint."""
        credentials = self.document["clients"][client]
        response = self.http.post(
            self.document["token_endpoint"],
            data={"grant_type": "client_credentials"},
            auth=(credentials["client_id"], credentials["client_secret"]),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def graphql(self, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        """POST one operation; the JSON body (the response object is on ``.last``)."""
        self.last = self.http.post(
            self.document["gateway"],
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        return self.last.json()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(process: subprocess.Popen[bytes], url: str, output: Path) -> None:
    """Poll /readyz until 200, the process ends, or the time is up."""
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(_READY_WITHIN_S),
        wait=tenacity.wait_exponential(multiplier=0.05, max=1),
        retry=tenacity.retry_if_exception_type((httpx.TransportError, httpx.HTTPStatusError)),
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            if process.poll() is not None:
                raise DemoExited(output.read_text("utf-8", "replace"))
            httpx.get(url, timeout=2).raise_for_status()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``credgate demo`` in a new data directory, until the module's tests are done."""
    root = tmp_path_factory.mktemp("demo-flows")
    data_dir, output, port = root / "demo", root / "demo.out", _free_port()
    command = [sys.executable, "-m", "gateway.cli", "demo", "--data-dir", str(data_dir)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--port", str(port)], stdout=sink, stderr=subprocess.STDOUT, env=env
        )
    try:
        _wait_ready(process, f"http://127.0.0.1:{port}/readyz", output)
        document = json.loads((data_dir / "demo.json").read_text("utf-8"))
        with httpx.Client(timeout=30) as http:
            yield Demo(data_dir, document, http)
    finally:
        process.terminate()
        try:
            process.wait(timeout=_STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=_STOP_WITHIN_S)


def _example(demo: Demo) -> tuple[str, dict[str, Any]]:
    """demo.json's investigation, asking for lodging records as far back as 2000."""
    example = demo.document["investigation_example"]
    query = example["query"].replace("lodgingRecords {", 'lodgingRecords(since: "2000-01-01") {')
    assert query != example["query"]
    return query, example["variables"]


def _older_stays(demo: Demo, resident_id: str, before: datetime.date) -> int:
    """Stays the public-security agency itself holds from before ``before``."""
    path = demo.data_dir / "agencies" / "public-security-jiaozuo.sqlite"
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM ldxx_zsdj WHERE zjhm = ? AND rzsj < ?",
            (resident_id, before.isoformat()),
        ).fetchone()
    return int(count)


def test_officer_investigates_across_all_four_agency_kinds(demo: Demo) -> None:
    query, variables = _example(demo)
    body = demo.graphql(demo.token("officer"), query, variables)

    assert demo.last.status_code == 200
    assert "errors" not in body, body["errors"]
    found = body["data"]["investigation"]
    assert found["subject"]["residentId"] == variables["subject"]["residentId"]
    # Bank, tax, civil affairs and public security, in one answer.
    for dataset in ("bankAccounts", "taxRefunds", "marriageRecords", "household", "lodgingRecords"):
        assert found[dataset], dataset
    assert all(AMOUNT.match(account["balance"]) for account in found["bankAccounts"])
    assert all(MASKED_ID.match(m["spouseIdNumber"]) for m in found["marriageRecords"])
    earliest = datetime.date.today() - datetime.timedelta(days=LODGING_DAYS)
    assert all(stay["checkIn"][:10] >= earliest.isoformat() for stay in found["lodgingRecords"])
    # The agency does hold older stays: the policy, not the data, left them out.
    assert _older_stays(demo, variables["subject"]["residentId"], earliest) > 0


def test_auditor_asking_for_bank_accounts_is_forbidden_and_no_agency_is_asked(
    demo: Demo,
) -> None:
    _, variables = _example(demo)
    query = """query($caseNumber: String!, $subject: SubjectInput!) {
      investigation(caseNumber: $caseNumber, subject: $subject) { bankAccounts { balance } } }"""
    auditor = demo.token("auditor")
    body = demo.graphql(auditor, query, variables)

    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert (body.get("data") or {}).get("investigation") is None
    event = demo.graphql(
        auditor,
        "query($i: Int!) { auditEvent(index: $i) { outcome agencies { agencyId } } }",
        {"i": body["extensions"]["audit"]["index"]},
    )["data"]["auditEvent"]
    assert event == {"outcome": "refused", "agencies": []}


def test_auditor_finds_the_officers_investigations_by_subject_id(demo: Demo) -> None:
    query, variables = _example(demo)
    resident_id = variables["subject"]["residentId"]
    done = demo.graphql(demo.token("officer"), query, variables)["extensions"]["audit"]["index"]
    search = """query($f: AuditEventFilter) { auditEvents(filter: $f, first: 50) {
      edges { node { index kind outcome caseNumber subjectIds principal { officerId } } } } }"""
    by_subject = {"subjectId": resident_id, "officerId": "officer-wz-001", "kind": "outcome"}

    body = demo.graphql(demo.token("auditor"), search, {"f": by_subject})

    nodes = [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]
    assert done in {node["index"] for node in nodes}
    for node in nodes:
        assert node["subjectIds"] == [resident_id]
        assert node["caseNumber"] == variables["caseNumber"]
        assert node["principal"]["officerId"] == "officer-wz-001"
    other = demo.graphql(
        demo.token("auditor"), search, {"f": {**by_subject, "subjectId": "110101199003077571"}}
    )
    assert other["data"]["auditEvents"]["edges"] == []


def test_audit_verify_passes_then_names_an_entry_edited_by_hand(
    demo: Demo, capsys: pytest.CaptureFixture[str]
) -> None:
    query, variables = _example(demo)
    index = demo.graphql(demo.token("officer"), query, variables)["extensions"]["audit"]["index"]
    verify = ["audit", "verify", "--data-dir", str(demo.data_dir)]
    assert main(verify) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    total = int(re.search(r"(\d+)/\1 entries valid", out).group(1))  # type: ignore[union-attr]
    assert total > index

    original = _edit_entry(demo, index, b'"officer-wz-001"', b'"officer-wz-002"')
    try:
        assert main(verify) == 1
        lines = capsys.readouterr().out.splitlines()
    finally:
        _write_entry(demo, index, original)
    assert lines[0].startswith(f"entry {index}: modified")
    assert re.fullmatch(rf"{total - 1}/\d+ entries valid.*", lines[-1])
    assert main(verify) == 0


def _edit_entry(demo: Demo, index: int, old: bytes, new: bytes) -> bytes:
    """Change one event's stored JSON in the demo database; returns the original."""
    path = demo.data_dir / "credgate.sqlite"
    with sqlite3.connect(path, timeout=10) as connection:
        (entry,) = connection.execute(
            "SELECT entry FROM audit_events WHERE idx = ?", (index,)
        ).fetchone()
    original = bytes(entry)
    assert old in original
    _write_entry(demo, index, original.replace(old, new))
    return original


def _write_entry(demo: Demo, index: int, entry: bytes) -> None:
    path = demo.data_dir / "credgate.sqlite"
    with sqlite3.connect(path, timeout=10) as connection:
        connection.execute("UPDATE audit_events SET entry = ? WHERE idx = ?", (entry, index))


def test_bank_checks_follows_the_feed_and_reports_and_the_officer_oversees(demo: Demo) -> None:
    example = demo.document["credit_list"]["status_example"]
    bank = demo.token("bank-icbc")
    status = demo.graphql(bank, example["query"], example["variables"])
    listed, unlisted, invalid, removed = status["data"]["dishonestStatus"]
    assert listed["listed"] is True
    assert (unlisted["listed"], invalid, removed["listed"]) == (False, None, False)
    assert [e["extensions"]["code"] for e in status["errors"]] == ["BAD_USER_INPUT"]

    kinds = [change["kind"] for change in _follow_feed(demo, bank)]
    assert kinds.count("PUBLISHED") == demo.document["credit_list"]["entries"]
    assert {"CORRECTED", "REMOVED"} <= set(kinds)

    today = datetime.date.today().isoformat()
    sanction = {
        "entry": listed["entries"][0]["entryId"],
        "measure": "REFUSE_LOAN",
        "on": today,
        "outcome": "APPLIED",
    }
    assert "errors" not in demo.graphql(bank, SANCTION, sanction)
    summary = demo.graphql(demo.token("officer"), SUMMARY, {"from": today, "to": today})
    agencies = {a["agencyId"]: a for a in summary["data"]["sanctionSummary"]["agencies"]}
    assert agencies["bank-icbc"]["measures"] == [{"measure": "REFUSE_LOAN", "sanctions": 1}]
    assert agencies["bank-icbc"]["lookupRequests"] >= 1


def _follow_feed(demo: Demo, token: str, page_size: int = 4) -> list[dict[str, Any]]:
    """Every change from the start of the feed to its end, page by page."""
    changes: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        page = demo.graphql(token, CHANGES, {"after": after, "first": page_size})
        feed = page["data"]["dishonestListChanges"]
        changes += feed["changes"]
        after = feed["endCursor"]
        if not feed["hasNextPage"]:
            return changes
    raise AssertionError("the change feed did not end within 100 pages")
