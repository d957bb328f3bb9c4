"""`credgate audit verify` names every kind of tampering by entry and exits non-zero."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Engine

from gateway.access_record import AccessRecord
from gateway.audit.canonical import canonical_json
from gateway.audit.checkpoint import NoteSigner
from gateway.audit.events import RequestFacts, outcome_draft
from gateway.audit.log import AuditLog
from gateway.audit.merkle import leaf_hash
from gateway.audit.receipt import receipt_message
from gateway.audit.store import audit_checkpoints, audit_events
from gateway.audit.tree_store import audit_tree_nodes
from gateway.cli import main
from gateway.db import create_db_engine
from gateway.keys import load_keys
from tests.conftest import prepare_deployment

EVENTS = 12


@dataclass
class Deployment:
    data_dir: Path
    engine: Engine
    audit: AuditLog
    receipts: list[dict[str, Any]]


@pytest.fixture
def deployment(tmp_path: Path, database_url: str) -> Iterator[Deployment]:
    """A log of 12 events with checkpoints at 5 and 12."""
    settings = prepare_deployment(tmp_path / "data", database_url)
    engine = create_db_engine(settings.database_url)
    audit = AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))
    receipts = []
    for number in range(EVENTS):
        record = AccessRecord(operation="probe", subjects=[f"41082319850714{number:04d}"])
        draft = outcome_draft(RequestFacts(request_id=f"req-{number}"), record)
        (event,) = audit.append_blocking([draft])
        receipts.append(dict(event.receipt))
        if number in (4, EVENTS - 1):
            assert audit.integrate_now()
    yield Deployment(tmp_path / "data", engine, audit, receipts)
    engine.dispose()


def _verify(deployment: Deployment, capsys: pytest.CaptureFixture[str], *extra: str) -> Any:
    code = main(["audit", "verify", "--data-dir", str(deployment.data_dir), "--json", *extra])
    report = json.loads(capsys.readouterr().out)
    assert (code == 0) == report["ok"]
    return report


def _problems(report: Any) -> set[tuple[Any, str]]:
    return {(p.get("index", p.get("checkpoint")), p["reason"]) for p in report["problems"]}


def _entry(engine: Engine, index: int) -> dict[str, Any]:
    with engine.connect() as connection:
        raw = connection.execute(
            select(audit_events.c.entry).where(audit_events.c.idx == index)
        ).scalar_one()
    value: dict[str, Any] = json.loads(raw)
    return value


def _store(engine: Engine, index: int, event: dict[str, Any], **columns: Any) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(audit_events)
            .where(audit_events.c.idx == index)
            .values(entry=canonical_json(event), **columns)
        )


def test_an_intact_log_verifies(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "verify", "--data-dir", str(deployment.data_dir)])
    assert code == 0
    assert f"{EVENTS}/{EVENTS} entries valid" in capsys.readouterr().out


def test_a_changed_field(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    event = _entry(deployment.engine, 3)
    event["operation"]["kind"] = "harmless"
    _store(deployment.engine, 3, event)
    code = main(["audit", "verify", "--data-dir", str(deployment.data_dir)])
    out = capsys.readouterr().out
    assert code == 1
    assert "entry 3: modified" in out
    assert f"{EVENTS - 1}/{EVENTS} entries valid" in out


def test_an_event_changed_with_its_hash(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    event = _entry(deployment.engine, 7)
    event["principal"] = {"subject": "someone-else"}
    _store(deployment.engine, 7, event, leaf_hash=leaf_hash(canonical_json(event)))
    assert _problems(_verify(deployment, capsys)) == {(7, "modified")}


def test_a_deleted_middle_event(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    with deployment.engine.begin() as connection:
        connection.execute(delete(audit_events).where(audit_events.c.idx == 6))
    report = _verify(deployment, capsys)
    assert (6, "missing") in _problems(report)
    assert report["valid"] == EVENTS - 1


def test_a_truncated_tail(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    with deployment.engine.begin() as connection:
        connection.execute(delete(audit_events).where(audit_events.c.idx >= 9))
        # Even with the coordinator reset, the last checkpoint remembers the size.
        connection.execute(text("UPDATE audit_sequence SET next_index = 9"))
    report = _verify(deployment, capsys)
    assert _problems(report) == {(9, "missing")}
    assert report["problems"][0]["last_index"] == EVENTS - 1
    assert report["valid"] == 9


def test_two_swapped_events(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    with deployment.engine.begin() as connection:
        rows = {
            row.idx: row
            for row in connection.execute(
                select(audit_events).where(audit_events.c.idx.in_([2, 8]))
            )
        }
        for here, there in ((2, 8), (8, 2)):
            values = {k: v for k, v in rows[there]._mapping.items() if k != "idx"}
            connection.execute(
                update(audit_events).where(audit_events.c.idx == here).values(values)
            )
    assert _problems(_verify(deployment, capsys)) == {(2, "out of order"), (8, "out of order")}


def test_an_inserted_event(deployment: Deployment, capsys: pytest.CaptureFixture[str]) -> None:
    engine = deployment.engine
    with engine.begin() as connection:
        rows = connection.execute(select(audit_events).order_by(audit_events.c.idx.desc())).all()
        for row in rows:  # shift 4.. up by one, from the top so keys stay unique
            if row.idx >= 4:
                connection.execute(
                    update(audit_events)
                    .where(audit_events.c.idx == row.idx)
                    .values(idx=row.idx + 1)
                )
        forged = _forged_event(rows[-1 - 4]._mapping, index=4)
        connection.execute(audit_events.insert().values(forged))
    problems = _problems(_verify(deployment, capsys))
    assert (4, "inserted") in problems
    assert {(i, "out of order") for i in range(5, EVENTS + 1)} <= problems


def _forged_event(template: Any, index: int) -> dict[str, Any]:
    values = dict(template)
    event = json.loads(values["entry"])
    event.update(index=index, requestId="forged")
    entry = canonical_json(event)
    other_key = Ed25519PrivateKey.generate()
    leaf = leaf_hash(entry)
    values.update(
        idx=index,
        entry=entry,
        leaf_hash=leaf,
        receipt_signature=other_key.sign(receipt_message(index, leaf, event["time"])),
    )
    return values


def test_a_checkpoint_signed_by_another_key(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    with deployment.engine.begin() as connection:
        note = connection.execute(
            select(audit_checkpoints.c.note).where(audit_checkpoints.c.size == 5)
        ).scalar_one()
        body = note[: note.index("\n\n") + 1]
        forged = NoteSigner(deployment.audit.signer.name, Ed25519PrivateKey.generate())
        connection.execute(
            update(audit_checkpoints)
            .where(audit_checkpoints.c.size == 5)
            .values(note=forged.sign_note(body))
        )
    assert _problems(_verify(deployment, capsys)) == {(5, "bad signature")}


def test_a_rewrite_inconsistent_with_a_trusted_checkpoint(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trusted = tmp_path / "witness.note"
    assert (
        main(["audit", "checkpoint", "--data-dir", str(deployment.data_dir), "--out", str(trusted)])
        == 0
    )
    # Someone holding the signing key rewrites event 2, re-signs its receipt and
    # every checkpoint (over rebuilt tree levels): the log alone looks perfect ...
    key = load_keys(deployment.data_dir / "keys").audit_signing.private_key
    event = _entry(deployment.engine, 2)
    event["operation"]["kind"] = "rewritten"
    leaf = leaf_hash(canonical_json(event))
    signature = key.sign(receipt_message(2, leaf, event["time"]))
    _store(deployment.engine, 2, event, leaf_hash=leaf, receipt_signature=signature)
    with deployment.engine.begin() as connection:
        connection.execute(delete(audit_checkpoints))
        connection.execute(delete(audit_tree_nodes))
    assert deployment.audit.integrate_now()
    assert _verify(deployment, capsys)["ok"]
    # ... but not to a witness who kept the earlier checkpoint.
    report = _verify(deployment, capsys, "--trusted-checkpoint", str(trusted))
    assert _problems(report) == {(EVENTS, "inconsistent with trusted checkpoint")}


def test_a_receipt_presented_for_another_event(
    deployment: Deployment, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(deployment.receipts[3]))
    assert _verify(deployment, capsys, "--receipt", str(receipt))["ok"]
    report = _verify(deployment, capsys, "--receipt", str(receipt), "--for-index", "4")
    assert _problems(report) == {(4, "receipt mismatch")}
    # Relabelling the receipt does not help: the leaf is rebuilt from entry 4.
    relabelled = {**deployment.receipts[3], "index": 4}
    receipt.write_text(json.dumps(relabelled))
    assert _problems(_verify(deployment, capsys, "--receipt", str(receipt))) == {
        (4, "receipt mismatch")
    }
