"""The tree's stored levels: written by the integrator, read by proofs, checked by verify.

On SQLite and PostgreSQL: proofs from ``audit_tree_nodes`` equal proofs from all
leaves for every tree size the log went through; a proof reads O(log n) rows by
key; a tampered stored node stops the integrator or is named by ``credgate audit
verify``.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.engine import Engine

from gateway.access_record import AccessRecord
from gateway.audit.events import RequestFacts, outcome_draft
from gateway.audit.integrator import IntegrityFailure
from gateway.audit.log import AuditLog
from gateway.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    perfect_subtrees,
    root_from_leaf_hashes,
)
from gateway.audit.proofs import TreeLevels
from gateway.audit.tree_store import TreeStore, audit_tree_nodes
from gateway.cli import main


def fill(audit: AuditLog, count: int, start: int = 0) -> None:
    """Append ``count`` events in one batch."""
    drafts = [
        outcome_draft(RequestFacts(request_id=f"req-{n}"), AccessRecord(operation="probe"))
        for n in range(start, start + count)
    ]
    audit.append_blocking(drafts)


def recomputed_leaves(audit: AuditLog) -> list[bytes]:
    """Leaf hashes rebuilt from the stored events."""
    return [leaf_hash(bytes(row.entry)) for row in audit.store.iter_events()]


def stored_nodes(engine: Engine) -> dict[tuple[int, int], bytes]:
    """Every row of audit_tree_nodes."""
    with engine.connect() as connection:
        rows = connection.execute(select(audit_tree_nodes)).all()
    return {(int(r.level), int(r.idx)): bytes(r.hash) for r in rows}


@contextmanager
def statements_run(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every query run on ``engine`` meanwhile, with its parameters (not BEGIN)."""
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def rows_read(engine: Engine, statements: list[tuple[str, Any]]) -> int:
    """Rows the statements return, counted by running them again, after checking
    that SQLite answers each by key (no full scan of a table)."""
    total = 0
    with engine.connect() as connection:
        for statement, parameters in statements:
            if engine.dialect.name == "sqlite":
                plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                details = [str(row[-1]) for row in plan]
                assert not any(d.startswith("SCAN audit") for d in details), details
            total += len(connection.exec_driver_sql(statement, parameters).all())
    return total


def test_the_integrator_stores_every_perfect_subtree_of_each_checkpointed_tree(
    audit: AuditLog,
) -> None:
    rng = random.Random(13)
    sizes = []
    while not sizes or sizes[-1] < 300:
        fill(audit, rng.randint(1, 40), start=sizes[-1] if sizes else 0)
        assert audit.integrate_now()
        sizes.append(audit.store.latest_checkpoint().size)  # type: ignore[union-attr]
    leaves = recomputed_leaves(audit)
    levels = TreeLevels(leaves)
    assert stored_nodes(audit.store.engine) == {
        (level, index): value
        for level in range(1, levels.height)
        for index, value in enumerate(levels.level(level))
    }
    tree = TreeStore(audit.store.engine)
    for checkpoint in audit.store.checkpoints():
        assert tree.root(checkpoint.size) == checkpoint.root_hash
    # Proofs for every size the log went through, and every size below the last.
    for size in range(1, len(leaves) + 1):
        picks = {0, size - 1, rng.randrange(size)}
        for index in picks:
            leaf, path = tree.inclusion_proof(index, size)
            assert (leaf, path) == (leaves[index], inclusion_proof(leaves, index, size))
        size1 = rng.randint(1, size)
        assert tree.consistency_proof(size1, size) == consistency_proof(leaves, size1, size)
    for size1 in sizes:
        for size2 in sizes:
            if size1 <= size2:
                expected = consistency_proof(leaves, size1, size2)
                assert tree.consistency_proof(size1, size2) == expected


def test_a_larger_log_in_big_rounds(audit: AuditLog) -> None:
    rng = random.Random(2026)
    total = 0
    while total < 2500:
        count = rng.randint(300, 900)
        fill(audit, count, start=total)
        total += count
        assert audit.integrate_now()
    leaves = recomputed_leaves(audit)
    tree = TreeStore(audit.store.engine)
    for _ in range(60):
        size = rng.randint(1, total)
        index, size1 = rng.randrange(size), rng.randint(1, size)
        assert tree.inclusion_proof(index, size)[1] == inclusion_proof(leaves, index, size)
        assert tree.consistency_proof(size1, size) == consistency_proof(leaves, size1, size)


def test_a_proof_reads_log_n_rows_by_key(audit: AuditLog) -> None:
    fill(audit, 1000)
    fill(audit, 337, start=1000)
    assert audit.integrate_now()
    size = 1337
    bound = 2 * math.ceil(math.log2(size)) + 1  # the leaf itself may add one
    tree, engine = TreeStore(audit.store.engine), audit.store.engine
    for index in (0, 1, 511, 1024, 1335, 1336):
        with statements_run(engine) as statements:
            tree.inclusion_proof(index, size)
        assert len(statements) == 1  # one round trip
        assert rows_read(engine, statements) <= bound
    for size1 in (1, 7, 512, 1000, 1336):
        with statements_run(engine) as statements:
            tree.consistency_proof(size1, size)
        assert len(statements) == 1  # one round trip
        assert rows_read(engine, statements) <= bound


def test_the_integrator_refuses_to_extend_over_a_tampered_frontier_node(
    audit: AuditLog,
) -> None:
    fill(audit, 13)
    assert audit.integrate_now()
    fill(audit, 3, start=13)
    level, index = perfect_subtrees(0, 13)[1]  # (2, 2): leaves 8..11, on the right edge
    with audit.store.engine.begin() as connection:
        connection.execute(
            update(audit_tree_nodes)
            .where(audit_tree_nodes.c.level == level, audit_tree_nodes.c.idx == index)
            .values(hash=b"\x00" * 32)
        )
    with pytest.raises(IntegrityFailure, match="do not reproduce checkpoint 13"):
        audit.integrate_now()
    with audit.store.engine.begin() as connection:
        connection.execute(delete(audit_tree_nodes).where(audit_tree_nodes.c.level == level))
    with pytest.raises(IntegrityFailure, match="lack checkpoint 13's subtrees"):
        audit.integrate_now()
    assert audit.store.latest_checkpoint().size == 13  # type: ignore[union-attr]


def _verify(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    code = main(["audit", "verify", "--data-dir", str(data_dir), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_verify_names_a_tampered_missing_or_uncovered_stored_node(
    audit: AuditLog, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"  # where the ``audit`` fixture deployed
    fill(audit, 40)
    assert audit.integrate_now()
    fill(audit, 5, start=40)  # not yet covered: no nodes for them
    code, report = _verify(data_dir, capsys)
    assert (code, report["ok"]) == (0, True)
    engine = audit.store.engine
    node = audit_tree_nodes.c
    with engine.begin() as connection:
        connection.execute(
            update(audit_tree_nodes)
            .where(node.level == 3, node.idx == 2)
            .values(hash=leaf_hash(b"forged"))
        )
        connection.execute(delete(audit_tree_nodes).where(node.level == 1, node.idx.in_([4, 5])))
        connection.execute(audit_tree_nodes.insert().values(level=1, idx=21, hash=b"\x01" * 32))
    code, report = _verify(data_dir, capsys)
    assert code == 1
    assert not report["ok"]
    # The events themselves are intact: every entry stays valid.
    assert (report["valid"], report["entries"]) == (45, 45)
    found = {(p["reason"], tuple(p["node"])): p["detail"] for p in report["problems"]}
    assert set(found) == {
        ("bad tree node", (3, 2)),
        ("bad tree node", (1, 4)),
        ("bad tree node", (1, 21)),
    }
    assert found["bad tree node", (3, 2)] == (
        "stored tree node 2 of level 3 (leaves 16..23) is different from the hash "
        "recomputed from the events"
    )
    assert found["bad tree node", (1, 4)].startswith("stored tree nodes 4..5 of level 1")
    assert found["bad tree node", (1, 4)].endswith("(leaves 8..11) are not stored")
    assert found["bad tree node", (1, 21)].endswith("is beyond the latest checkpoint's tree")
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(audit_tree_nodes)).scalar()
    assert count == 40 - (40).bit_count() - 2 + 1
    # The terminal report names the node too.
    assert main(["audit", "verify", "--data-dir", str(data_dir)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("tree level 3 node 2: bad tree node: stored") for line in lines)
    assert lines[-1] == "45/45 entries valid, 1 checkpoints"


def test_stored_roots_match_the_leaves(audit: AuditLog) -> None:
    fill(audit, 21)
    assert audit.integrate_now()
    leaves = recomputed_leaves(audit)
    assert TreeStore(audit.store.engine).root(21) == root_from_leaf_hashes(leaves)
    assert TreeStore(audit.store.engine).root(0) == root_from_leaf_hashes([])
