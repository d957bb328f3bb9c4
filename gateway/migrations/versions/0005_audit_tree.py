"""Audit: the Merkle tree's stored levels, backfilled from the existing leaves.

Creates ``audit_tree_nodes`` (``gateway.audit.tree_store``): the hash of every
perfect subtree above the leaves, keyed by ``(level, idx)``, so that proofs
read O(log n) rows instead of every leaf. An existing log gets the nodes of
its latest checkpoint's tree, computed from the stored leaf hashes (each
checked against its event by the integrator when it covered it) a chunk at a
time, in index order. The rebuilt tree must reproduce that checkpoint's root;
if it does not, the log has been altered, and the upgrade stops rather than
store levels the integrator would refuse: run ``credgate audit verify``.

Revision ID: 0005_audit_tree
Revises: 0003_audit
"""

from __future__ import annotations

import hmac

import sqlalchemy as sa
from alembic import op

from gateway.audit.merkle import MerkleFrontier, TreeNode

revision = "0005_audit_tree"
down_revision = "0003_audit"
branch_labels = None
depends_on = None

_CHUNK = 20_000

_events = sa.table("audit_events", sa.column("idx", sa.BigInteger), sa.column("leaf_hash"))
_checkpoints = sa.table(
    "audit_checkpoints", sa.column("size", sa.BigInteger), sa.column("root_hash")
)


def upgrade() -> None:
    """Create the node table and store the nodes of the latest checkpoint's tree."""
    nodes = op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sqlite_with_rowid=False,
    )
    _backfill(op.get_bind(), nodes)


def _backfill(connection: sa.Connection, nodes: sa.Table) -> None:
    latest = connection.execute(
        sa.select(_checkpoints.c.size, _checkpoints.c.root_hash)
        .order_by(_checkpoints.c.size.desc())
        .limit(1)
    ).first()
    if latest is None:
        return
    size = int(latest.size)
    frontier = MerkleFrontier()
    while frontier.size < size:
        rows = connection.execute(
            sa.select(_events.c.idx, _events.c.leaf_hash)
            .where(_events.c.idx >= frontier.size, _events.c.idx < size)
            .order_by(_events.c.idx)
            .limit(_CHUNK)
        ).all()
        if not rows or int(rows[-1].idx) != frontier.size + len(rows) - 1:
            raise RuntimeError(
                f"audit event {frontier.size} or one after it is missing below checkpoint "
                f"{size}: run `credgate audit verify` before upgrading"
            )
        _insert(connection, nodes, frontier.grow(bytes(row.leaf_hash) for row in rows))
    if not hmac.compare_digest(frontier.root(), bytes(latest.root_hash)):
        raise RuntimeError(
            f"the stored leaves do not reproduce checkpoint {size}'s root: "
            "run `credgate audit verify` before upgrading"
        )


def _insert(connection: sa.Connection, nodes: sa.Table, completed: list[TreeNode]) -> None:
    if completed:
        rows = [{"level": n.level, "idx": n.index, "hash": n.hash} for n in completed]
        connection.execute(sa.insert(nodes), rows)


def downgrade() -> None:
    """Drop the node table (the proofs then have no stored levels to read)."""
    op.drop_table("audit_tree_nodes")
