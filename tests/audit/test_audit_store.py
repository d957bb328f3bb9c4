"""The store's append path: gapless allocation, rollback, and the driver's errors."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.oracle.base import OracleDialect
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from gateway.access_record import AccessRecord
from gateway.audit.events import EventDraft, RequestFacts, outcome_draft
from gateway.audit.log import AuditLog
from gateway.audit.store import (
    AuditBackendUnsupported,
    AuditSequenceMissing,
    SealedBatch,
    _AppendStatements,
    audit_events,
    audit_sequence,
    audit_subjects,
)
from gateway.audit.verify import verify_log
from gateway.db import create_db_engine
from gateway.keys import load_keys
from tests.conftest import prepare_deployment


@pytest.fixture(params=["returning", "lock-then-update"])
def audit(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Iterator[AuditLog]:
    """An audit log, allocating by UPDATE ... RETURNING or by the older two statements."""
    settings = prepare_deployment(tmp_path / "data", database_url)
    engine = create_db_engine(settings.database_url)
    log = AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))
    if request.param == "lock-then-update":
        # What a SQLite older than 3.35 gets.
        statements = log.store._statements
        log.store.__dict__["_statements"] = dataclasses.replace(statements, allocate=None)
    yield log
    engine.dispose()


def _draft(number: int, subjects: int = 1) -> list[EventDraft]:
    record = AccessRecord(subjects=[f"4108231985071423{n:02d}" for n in range(subjects)])
    return [outcome_draft(RequestFacts(request_id=f"r{number}"), record)]


def _append(audit: AuditLog, number: int, subjects: int = 1) -> int:
    (event,) = audit.append_blocking(_draft(number, subjects))
    return event.index


def test_batches_get_consecutive_indices_and_every_row(audit: AuditLog) -> None:
    assert [_append(audit, n, subjects=n % 3) for n in range(5)] == [0, 1, 2, 3, 4]
    drafts = [d for n in range(5, 8) for d in _draft(n, subjects=2)]
    assert [e.index for e in audit.append_blocking(drafts)] == [5, 6, 7]
    assert audit.store.next_index() == 8
    with audit.store.engine.connect() as connection:
        subjects = connection.execute(select(audit_subjects.c.event_idx)).scalars().all()
        stored = connection.execute(select(audit_events.c.idx)).scalars().all()
    assert sorted(stored) == list(range(8))
    assert sorted(subjects) == [1, 2, 2, 4, 5, 5, 6, 6, 7, 7]
    audit.integrate_now()
    report = verify_log(audit.store, audit.verifier, audit.verifier.public_key)
    assert report.ok
    assert report.valid == 8


def test_a_failed_batch_gives_its_indices_back(audit: AuditLog) -> None:
    assert _append(audit, 0) == 0

    def refused(start: int) -> SealedBatch:
        raise ValueError("sealing failed")

    with pytest.raises(ValueError, match="sealing failed"):
        audit.store.append(refused, 3)
    assert audit.store.next_index() == 1

    def duplicate(start: int) -> SealedBatch:
        # Index 0 is taken: the database refuses the row, and the batch rolls back.
        batch = audit._sealer.seal(_draft(1), start, 0)
        batch.events[0] = batch.events[0]._replace(idx=0)
        return batch

    with pytest.raises(IntegrityError):
        audit.store.append(duplicate, 1)
    assert audit.store.next_index() == 1
    assert _append(audit, 2) == 1


def test_a_missing_coordinator_row_is_named(audit: AuditLog) -> None:
    with audit.store.engine.begin() as connection:
        connection.execute(delete(audit_sequence))
    with pytest.raises(AuditSequenceMissing):
        _append(audit, 0)


def test_the_readiness_probe_writes_nothing(audit: AuditLog) -> None:
    _append(audit, 0)
    sample = audit._sealer.seal(_draft(1), -1, 0)
    audit.store.probe(sample)
    assert audit.store.next_index() == 1
    with audit.store.engine.begin() as connection:
        connection.execute(text("DROP TABLE audit_subjects"))
    with pytest.raises(SQLAlchemyError):
        audit.store.probe(sample)


def test_a_driver_binding_parameters_by_name_is_refused_with_the_reason() -> None:
    # The append path binds rows as tuples; a "named" driver (Oracle's) cannot take them.
    named = OracleDialect(paramstyle="named")
    with pytest.raises(AuditBackendUnsupported, match=r"'named'.*SQLite or PostgreSQL"):
        _AppendStatements.compile(named)
