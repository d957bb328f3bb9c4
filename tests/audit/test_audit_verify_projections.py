"""`credgate audit verify` checks every search column and row against the signed entry.

Each test alters one copy the auditors' searches run on (a column of
``audit_events``, a row of ``audit_event_agencies`` or ``audit_subjects``) and
expects the CLI to exit 1 naming the entry and the column or row, while the
entry itself, its leaf and its receipt are untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from gateway.access_record import AccessRecord, AgencyCall
from gateway.audit.canonical import canonical_json
from gateway.audit.events import RequestFacts, intent_draft, outcome_draft
from gateway.audit.log import AuditLog
from gateway.audit.merkle import leaf_hash
from gateway.audit.receipt import receipt_message
from gateway.audit.store import (
    audit_checkpoints,
    audit_event_agencies,
    audit_event_measures,
    audit_events,
    audit_subjects,
)
from gateway.audit.tree_store import audit_tree_nodes
from gateway.auth.principal import Principal, Role
from gateway.cli import main
from gateway.db import create_db_engine
from gateway.keys import load_keys
from tests.audit.audit_support import RESIDENT_IDS
from tests.conftest import prepare_deployment

EVENTS = 12
#: The event every test tampers with: an outcome with two agencies and two subjects.
TAMPERED = 7

OFFICER = Principal(
    subject="officer-wz-001",
    client_id="cg_officer",
    role=Role.OFFICER,
    scopes=frozenset({"investigate"}),
    issuer="http://127.0.0.1:8000",
    token_id="test-token-id",
    court_id="court-wuzhi",
    officer_id="officer-wz-001",
)


@dataclass
class Deployment:
    data_dir: Path
    engine: Engine


def _record(number: int) -> AccessRecord:
    return AccessRecord(
        operation="investigation",
        case_number=f"(2024)豫0823执{100 + number}号",
        court_id="court-wuzhi",
        document="协助查询通知书",
        subjects=[RESIDENT_IDS[number % 3], RESIDENT_IDS[(number + 1) % 3]],
        agency_calls=[
            AgencyCall("bank-icbc", {"bank.accounts": ["balance"]}, "ok", 12, "d1", "d2", 1),
            AgencyCall("tax", {"tax.refunds": ["amount"]}, "AGENCY_TIMEOUT", 900),
        ],
        # Two steps of one measure and one of another: one row per measure.
        measures=[
            {"measureId": f"m-{number}", "kind": "freeze", "step": "submitted"},
            {"measureId": f"m-{number}", "kind": "freeze", "step": "accepted"},
            {"measureId": f"n-{number}", "kind": "unfreeze", "step": "submitted"},
        ],
    )


@pytest.fixture
def deployment(tmp_path: Path, database_url: str) -> Iterator[Deployment]:
    """Twelve events (intents and outcomes) with checkpoints at 4 and 12."""
    settings = prepare_deployment(tmp_path / "data", database_url)
    engine = create_db_engine(settings.database_url)
    audit = AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))
    for number in range(EVENTS):
        facts = RequestFacts(f"req-{number}", OFFICER, None, "Investigate", "hash")
        make = intent_draft if number % 2 == 0 else outcome_draft
        audit.append_blocking([make(facts, _record(number))])
        if number + 1 in (4, EVENTS):
            assert audit.integrate_now()
    yield Deployment(tmp_path / "data", engine)
    engine.dispose()


def _verify(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Any]:
    """Run the CLI twice: as text, then as JSON; both must agree on the exit code."""
    code = main(["audit", "verify", "--data-dir", str(deployment.data_dir)])
    text = capsys.readouterr().out
    json_code = main(["audit", "verify", "--data-dir", str(deployment.data_dir), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == json_code
    return code, text, report


def _set_column(column: str, value: Any) -> Callable[[Connection], None]:
    def tamper(connection: Connection) -> None:
        connection.execute(
            update(audit_events).where(audit_events.c.idx == TAMPERED).values({column: value})
        )

    return tamper


def _edit_agency(connection: Connection) -> None:
    agencies = audit_event_agencies.c
    connection.execute(
        update(audit_event_agencies)
        .where(agencies.event_idx == TAMPERED, agencies.agency_id == "bank-icbc")
        .values(agency_id="bank-abc")
    )


def _delete_agency(connection: Connection) -> None:
    agencies = audit_event_agencies.c
    connection.execute(
        delete(audit_event_agencies).where(
            agencies.event_idx == TAMPERED, agencies.agency_id == "tax"
        )
    )


def _edit_measure(connection: Connection) -> None:
    measures = audit_event_measures.c
    connection.execute(
        update(audit_event_measures)
        .where(measures.event_idx == TAMPERED, measures.measure_id == f"m-{TAMPERED}")
        .values(measure_id="m-other")
    )


def _delete_measure(connection: Connection) -> None:
    measures = audit_event_measures.c
    connection.execute(
        delete(audit_event_measures).where(
            measures.event_idx == TAMPERED, measures.measure_id == f"n-{TAMPERED}"
        )
    )


def _insert_measure(connection: Connection) -> None:
    connection.execute(
        insert(audit_event_measures).values(event_idx=TAMPERED, measure_id="m-planted")
    )


def _insert_agency(connection: Connection) -> None:
    connection.execute(
        insert(audit_event_agencies).values(event_idx=TAMPERED, agency_id="public-security")
    )


def _edit_subject_blind_index(connection: Connection) -> None:
    connection.execute(
        update(audit_subjects)
        .where(audit_subjects.c.event_idx == TAMPERED, audit_subjects.c.position == 0)
        .values(blind_index="0" * 64)
    )


def _edit_subject_ciphertext(connection: Connection) -> None:
    # The blind index is left alone: only the ciphertext commitment catches this.
    connection.execute(
        update(audit_subjects)
        .where(audit_subjects.c.event_idx == TAMPERED, audit_subjects.c.position == 1)
        .values(ciphertext=b"\x00" * 40)
    )


def _delete_subject(connection: Connection) -> None:
    connection.execute(
        delete(audit_subjects).where(
            audit_subjects.c.event_idx == TAMPERED, audit_subjects.c.position == 1
        )
    )


def _insert_subject(connection: Connection) -> None:
    connection.execute(
        insert(audit_subjects).values(
            event_idx=TAMPERED, position=2, blind_index="f" * 64, key_id="k", ciphertext=b"x"
        )
    )


#: (tamper, what the report must name).
TAMPERS: dict[str, tuple[Callable[[Connection], None], list[str]]] = {
    "officer_id": (
        _set_column("officer_id", "officer-wz-999"),
        ["audit_events.officer_id is 'officer-wz-999'; the signed entry says 'officer-wz-001'"],
    ),
    "court_id": (_set_column("court_id", "court-other"), ["audit_events.court_id"]),
    "case_number": (
        _set_column("case_number", "(2024)豫0823执999号"),
        ["audit_events.case_number is '(2024)豫0823执999号'"],
    ),
    "outcome": (
        _set_column("outcome", "refused"),
        ["audit_events.outcome is 'refused'; the signed entry says 'ok'"],
    ),
    "kind": (_set_column("kind", "intent"), ["audit_events.kind is 'intent'"]),
    "time_ms": (_set_column("time_ms", 1), ["audit_events.time_ms is 1"]),
    "request_id": (_set_column("request_id", "req-0"), ["audit_events.request_id is 'req-0'"]),
    "principal_subject": (
        _set_column("principal_subject", "someone"),
        ["audit_events.principal_subject"],
    ),
    "client_id": (_set_column("client_id", "cg_other"), ["audit_events.client_id"]),
    "role": (_set_column("role", "auditor"), ["audit_events.role is 'auditor'"]),
    "edited agency row": (
        _edit_agency,
        [
            "audit_event_agencies: no row for agency 'bank-icbc'",
            "audit_event_agencies: row for agency 'bank-abc' not in the entry",
        ],
    ),
    "deleted agency row": (_delete_agency, ["audit_event_agencies: no row for agency 'tax'"]),
    "inserted agency row": (
        _insert_agency,
        ["audit_event_agencies: row for agency 'public-security' not in the entry"],
    ),
    "edited measure row": (
        _edit_measure,
        [
            f"audit_event_measures: no row for measure 'm-{TAMPERED}'",
            "audit_event_measures: row for measure 'm-other' not in the entry",
        ],
    ),
    "deleted measure row": (
        _delete_measure,
        [f"audit_event_measures: no row for measure 'n-{TAMPERED}'"],
    ),
    "inserted measure row": (
        _insert_measure,
        ["audit_event_measures: row for measure 'm-planted' not in the entry"],
    ),
    "edited subject blind index": (
        _edit_subject_blind_index,
        ["audit_subjects position 0: blind_index is '00000000"],
    ),
    "edited subject ciphertext": (
        _edit_subject_ciphertext,
        ["audit_subjects position 1: the ciphertext does not match the entry's ciphertextHash"],
    ),
    "deleted subject row": (
        _delete_subject,
        ["audit_subjects position 1: no row, though the entry lists this subject"],
    ),
    "inserted subject row": (
        _insert_subject,
        ["audit_subjects position 2: a row the entry does not list"],
    ),
}


def test_an_intact_log_with_agencies_and_subjects_verifies(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text, report = _verify(deployment, capsys)
    assert code == 0, text
    assert f"{EVENTS}/{EVENTS} entries valid" in text
    assert report["problems"] == []


@pytest.mark.parametrize("name", list(TAMPERS))
def test_a_tampered_search_value_is_named(
    name: str, deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper, expected = TAMPERS[name]
    with deployment.engine.begin() as connection:
        tamper(connection)
    code, text, report = _verify(deployment, capsys)
    assert code == 1
    for detail in expected:
        assert f"entry {TAMPERED}: projection mismatch: {detail}" in text
    assert f"{EVENTS - 1}/{EVENTS} entries valid" in text
    assert {(p["index"], p["reason"]) for p in report["problems"]} == {
        (TAMPERED, "projection mismatch")
    }
    assert len(report["problems"]) == len(expected)


def test_side_rows_of_no_stored_event_are_named(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    with deployment.engine.begin() as connection:
        connection.execute(insert(audit_event_agencies).values(event_idx=40, agency_id="x"))
        connection.execute(
            insert(audit_subjects).values(
                event_idx=40, position=0, blind_index="a" * 64, key_id="k", ciphertext=b"x"
            )
        )
    code, text, _ = _verify(deployment, capsys)
    assert code == 1
    assert (
        "entry 40: projection mismatch: audit_event_agencies and audit_subjects rows for an "
        "event that is not stored"
    ) in text


def test_every_tampered_event_is_named_in_one_run(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    with deployment.engine.begin() as connection:
        for index, value in ((2, "error"), (9, "refused")):
            connection.execute(
                update(audit_events).where(audit_events.c.idx == index).values(outcome=value)
            )
    code, text, report = _verify(deployment, capsys)
    assert code == 1
    assert {p["index"] for p in report["problems"]} == {2, 9}
    assert f"{EVENTS - 2}/{EVENTS} entries valid" in text


def test_a_signed_entry_without_its_outcome_is_malformed(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # Only a holder of the signing key could store such an entry: re-sign it and
    # every checkpoint, so that nothing but its content is wrong.
    key = load_keys(deployment.data_dir / "keys").audit_signing.private_key
    with deployment.engine.begin() as connection:
        raw = connection.execute(
            select(audit_events.c.entry).where(audit_events.c.idx == TAMPERED)
        ).scalar_one()
        event = json.loads(raw)
        del event["outcome"]
        entry = canonical_json(event)
        leaf = leaf_hash(entry)
        connection.execute(
            update(audit_events)
            .where(audit_events.c.idx == TAMPERED)
            .values(
                entry=entry,
                leaf_hash=leaf,
                receipt_signature=key.sign(receipt_message(TAMPERED, leaf, event["time"])),
            )
        )
        connection.execute(delete(audit_checkpoints))
        connection.execute(delete(audit_tree_nodes))  # the levels of the signed trees
    code, text, report = _verify(deployment, capsys)
    assert code == 1
    assert f"entry {TAMPERED}: malformed: 'outcome' is missing or not a string" in text
    assert {(p["index"], p["reason"]) for p in report["problems"]} == {(TAMPERED, "malformed")}
