"""Migration 0005_audit_tree backfills the stored levels of an existing log.

A log written before the tree had stored levels is simulated by downgrading
below 0005 after filling it (the events and checkpoints are the same as they
were before this migration existed), then upgrading with ``credgate db upgrade``'s
code path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, update
from sqlalchemy.engine import Engine

from gateway import migrate
from gateway.audit.log import AuditLog
from gateway.audit.merkle import inclusion_proof
from gateway.audit.store import audit_events
from gateway.audit.tree_store import TreeStore
from gateway.cli import main
from gateway.db import create_db_engine
from gateway.keys import load_keys
from tests.audit.test_audit_tree import fill, recomputed_leaves, stored_nodes
from tests.conftest import prepare_deployment


@pytest.fixture
def engine(tmp_path: Path, database_url: str) -> Iterator[Engine]:
    """The engine of a migrated deployment under ``tmp_path / "data"``."""
    settings = prepare_deployment(tmp_path / "data", database_url)
    created = create_db_engine(settings.database_url)
    yield created
    created.dispose()


def _audit(tmp_path: Path, engine: Engine) -> AuditLog:
    settings_dir = tmp_path / "data"
    return AuditLog(engine, load_keys(settings_dir / "keys"), "127.0.0.1:8000/audit")


def _downgrade_below_tree(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", "gateway:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003_audit")


def test_upgrade_backfills_the_levels_of_a_populated_log(tmp_path: Path, engine: Engine) -> None:
    audit = _audit(tmp_path, engine)
    fill(audit, 100)
    assert audit.integrate_now()
    fill(audit, 77, start=100)
    assert audit.integrate_now()
    fill(audit, 6, start=177)  # not covered by a checkpoint yet
    written = stored_nodes(engine)
    assert len(written) == 177 - (177).bit_count()

    _downgrade_below_tree(engine)
    assert "audit_tree_nodes" not in inspect(engine).get_table_names()
    assert "0005_audit_tree" in migrate.pending_revisions(migrate.database_heads(engine))
    migrate.upgrade(engine)

    assert stored_nodes(engine) == written
    # The integrator extends the backfilled levels, and proofs read them.
    assert audit.integrate_now()
    assert audit.store.latest_checkpoint().size == 183  # type: ignore[union-attr]
    leaves = recomputed_leaves(audit)
    tree = TreeStore(engine)
    for index in (0, 99, 176, 182):
        assert tree.inclusion_proof(index, 183)[1] == inclusion_proof(leaves, index, 183)
    code = main(["audit", "verify", "--data-dir", str(tmp_path / "data"), "--json"])
    assert code == 0


def test_upgrade_of_an_empty_log_stores_nothing(tmp_path: Path, engine: Engine) -> None:
    _downgrade_below_tree(engine)
    migrate.upgrade(engine)
    assert stored_nodes(engine) == {}
    audit = _audit(tmp_path, engine)
    fill(audit, 3)
    assert audit.integrate_now()
    assert set(stored_nodes(engine)) == {(1, 0)}


def test_upgrade_stops_on_leaves_that_do_not_reproduce_the_checkpoint(
    tmp_path: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = _audit(tmp_path, engine)
    fill(audit, 20)
    assert audit.integrate_now()
    _downgrade_below_tree(engine)
    with engine.begin() as connection:
        connection.execute(
            update(audit_events).where(audit_events.c.idx == 4).values(leaf_hash=b"\x07" * 32)
        )
    with pytest.raises(RuntimeError, match=r"checkpoint 20's root: run `credgate audit verify`"):
        migrate.upgrade(engine)
    assert "audit_tree_nodes" not in inspect(engine).get_table_names()
    # What the message asks for names the altered entry.
    main(["audit", "verify", "--data-dir", str(tmp_path / "data"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert {(p.get("index"), p["reason"]) for p in report["problems"]} == {
        (4, "modified"),
        (None, "bad tree node"),  # the levels are not stored: upgrade once repaired
    }
