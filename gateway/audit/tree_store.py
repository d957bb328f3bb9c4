"""The Merkle tree's stored levels, and every SQL statement that touches them.

``audit_tree_nodes`` holds the hash of every perfect subtree of the integrated
tree above the leaves, keyed by ``(level, idx)``: node ``idx`` of level ``l``
covers leaves ``idx * 2**l`` to ``(idx + 1) * 2**l - 1``. Level 0, the leaves,
is ``audit_events.leaf_hash``, which the integrator checks against each event
before it covers it. The integrator inserts the nodes each round completes in
the transaction that stores the round's checkpoint, so the nodes are exactly
those of the latest checkpoint's tree; rows are never updated.

Any RFC 9162 proof element is the fold of at most one perfect subtree per
level (:mod:`gateway.audit.proofs`), so an inclusion or consistency proof
reads at most about ``2 * log2(n)`` rows, by primary key, in one statement.

Why a node table rather than C2SP tlog tiles: a proof reads exactly the hashes
it needs (tiles read 256-hash blobs and rehash inside them); rows are only ever
inserted, never rewritten as a partial tile grows (no dead tuples on
PostgreSQL, no upserts); and ``credgate audit verify`` can name the one node
that differs. A C2SP tile is a run of one level's rows (level ``8 * L``), so
tiles can be served from this table should a tlog-tiles client need them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    LargeBinary,
    SmallInteger,
    Table,
    and_,
    insert,
    inspect,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection, Engine

from gateway.audit.errors import TreeStateError
from gateway.audit.merkle import MerkleFrontier, TreeNode, perfect_subtrees
from gateway.audit.proofs import NodeKey, ProofPlan, consistency_plan, inclusion_plan
from gateway.audit.store import audit_events
from gateway.db import metadata, read_connection

__all__ = ["TreeStore", "audit_tree_nodes"]

#: Perfect-subtree hashes above the leaves; see the module docstring.
audit_tree_nodes = Table(
    "audit_tree_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    # The key is the only access path: no rowid B-tree beside the primary key.
    sqlite_with_rowid=False,
)

#: Rows inserted per statement when a round completes many nodes.
_INSERT_CHUNK = 5000


class TreeStore:
    """SQL access to the tree's stored levels.

    Args:
        engine: The gateway's engine.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def hashes(
        self, keys: Iterable[NodeKey], connection: Connection | None = None
    ) -> dict[NodeKey, bytes]:
        """The stored hashes of these nodes (leaves from ``audit_events``).

        Args:
            keys: ``(level, idx)`` of the nodes wanted.
            connection: Read inside this transaction; by default a read of its own.

        Returns:
            The hashes found, by key; absent nodes are absent.
        """
        wanted = set(keys)
        if connection is None:
            with read_connection(self.engine) as own:
                return _read_hashes(own, wanted)
        return _read_hashes(connection, wanted)

    def inclusion_proof(
        self, index: int, tree_size: int, connection: Connection | None = None
    ) -> tuple[bytes, list[bytes]]:
        """Leaf ``index``'s hash and its audit path in the tree of ``tree_size`` leaves.

        Args:
            index: The leaf.
            tree_size: A size the stored levels cover (a checkpoint's).
            connection: Read inside this transaction; by default a read of its own.

        Returns:
            The leaf hash and PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1).

        Raises:
            ValueError: Unless ``0 <= index < tree_size``.
            TreeStateError: If a node the proof needs is not stored.
        """
        plan = inclusion_plan(index, tree_size)
        found = self.hashes(plan.nodes() | {(0, index)}, connection)
        leaf = found.get((0, index))
        if leaf is None:
            raise TreeStateError(f"no stored hash of leaf {index}")
        return leaf, plan.assemble(found)

    def inclusion_proofs(self, indices: Iterable[int], tree_size: int) -> dict[int, list[bytes]]:
        """Audit paths of many leaves in one tree, their nodes read together.

        Neighbouring leaves share most of their paths, so a page of ``k``
        consecutive events needs about ``2k + 2 log2(n)`` stored hashes.

        Raises:
            ValueError: Unless every index is below ``tree_size``.
            TreeStateError: If a node a proof needs is not stored.
        """
        plans = {index: inclusion_plan(index, tree_size) for index in indices}
        found = self.hashes(key for plan in plans.values() for key in plan.nodes())
        return {index: plan.assemble(found) for index, plan in plans.items()}

    def consistency_proof(
        self, size1: int, size2: int, connection: Connection | None = None
    ) -> list[bytes]:
        """PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1) from the stored levels.

        Args:
            size1: Size of the older tree.
            size2: Size of the newer tree, one the stored levels cover.
            connection: Read inside this transaction; by default a read of its own.

        Raises:
            ValueError: Unless ``0 < size1 <= size2``.
            TreeStateError: If a node the proof needs is not stored.
        """
        plan = consistency_plan(size1, size2)
        return plan.assemble(self.hashes(plan.nodes(), connection))

    def frontier(self, size: int, connection: Connection | None = None) -> MerkleFrontier:
        """The frontier of the tree of ``size`` leaves, read from its stored subtrees.

        Raises:
            TreeStateError: If a subtree of the tree is not stored.
        """
        if size == 0:
            return MerkleFrontier()
        plan = ProofPlan(tuple((key,) for key in perfect_subtrees(0, size)))
        hashes = plan.assemble(self.hashes(plan.nodes(), connection))
        return MerkleFrontier.from_subtrees(size, hashes)

    def root(self, size: int, connection: Connection | None = None) -> bytes:
        """MTH(D[0:size]) from the stored subtrees (RFC 9162 §2.1.1).

        Raises:
            TreeStateError: If a subtree of the tree is not stored.
        """
        return self.frontier(size, connection).root()

    @staticmethod
    def insert(connection: Connection, nodes: Sequence[TreeNode]) -> None:
        """Store newly completed nodes of level 1 and up, inside the caller's transaction."""
        for start in range(0, len(nodes), _INSERT_CHUNK):
            chunk = nodes[start : start + _INSERT_CHUNK]
            connection.execute(
                insert(audit_tree_nodes),
                [{"level": n.level, "idx": n.index, "hash": n.hash} for n in chunk],
            )

    def iter_level(self, level: int, *, chunk: int = 20_000) -> Iterator[tuple[int, bytes]]:
        """Every stored node of ``level`` (1 and up), in index order, as ``(idx, hash)``."""
        node = audit_tree_nodes.c
        after = -1
        while True:
            with read_connection(self.engine) as connection:
                rows = connection.execute(
                    select(node.idx, node.hash)
                    .where(node.level == level, node.idx > after)
                    .order_by(node.idx)
                    .limit(chunk)
                ).all()
            for row in rows:
                yield int(row.idx), bytes(row.hash)
            if len(rows) < chunk:
                return
            after = int(rows[-1].idx)

    def exists(self) -> bool:
        """Whether the table is there (a database upgraded past ``0005_audit_tree``)."""
        with read_connection(self.engine) as connection:
            return inspect(connection).has_table(audit_tree_nodes.name)

    def top_level(self) -> int:
        """The highest level with a stored node (0 when none is stored)."""
        with read_connection(self.engine) as connection:
            value = connection.execute(
                select(audit_tree_nodes.c.level).order_by(audit_tree_nodes.c.level.desc()).limit(1)
            ).scalar_one_or_none()
        return int(value or 0)


def _read_hashes(connection: Connection, keys: set[NodeKey]) -> dict[NodeKey, bytes]:
    # One statement, so that a proof costs one round trip to the database.
    parts = []
    leaves = sorted(index for level, index in keys if level == 0)
    if leaves:
        event = audit_events.c
        level_zero = literal(0, SmallInteger).label("level")
        leaf_rows = select(level_zero, event.idx, event.leaf_hash.label("hash"))
        parts.append(leaf_rows.where(event.idx.in_(leaves)))
    by_level: dict[int, list[int]] = {}
    for level, index in sorted(key for key in keys if key[0] > 0):
        by_level.setdefault(level, []).append(index)
    if by_level:
        node = audit_tree_nodes.c
        # One key lookup per level: SQLite answers "(level, idx) IN (VALUES ...)"
        # with a full scan, an OR of "level = ? AND idx IN (...)" by the key.
        wanted = [and_(node.level == lvl, node.idx.in_(ids)) for lvl, ids in by_level.items()]
        parts.append(select(node.level, node.idx, node.hash).where(or_(*wanted)))
    if not parts:
        return {}
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    rows = connection.execute(query)
    return {(int(row.level), int(row.idx)): bytes(row.hash) for row in rows}
