"""Checking the tree's stored levels against the tree rebuilt from the events.

Proofs are served from ``audit_tree_nodes`` (``gateway.audit.tree_store``), so
a changed node there would hand auditors proofs that fail, or, with a changed
checkpoint too, proofs of another tree. ``credgate audit verify`` rebuilds
every level from the leaves it recomputes from the events (it never trusts a
stored node) and names each stored node that differs, is missing, or lies
beyond the latest checkpoint's tree.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from gateway.audit.proofs import TreeLevels
from gateway.audit.tree_store import TreeStore

__all__ = ["NodeMismatch", "stored_node_mismatches"]

DIFFERS = "different from the hash recomputed from the events"
MISSING = "not stored"
UNCOVERED = "beyond the latest checkpoint's tree"


@dataclass(frozen=True)
class NodeMismatch:
    """Stored nodes of one level that do not match the rebuilt tree.

    Attributes:
        level: The level (1 and up; level 0 is the events' leaf hashes).
        index: The first node concerned.
        last_index: The last node concerned (a run of missing nodes).
        detail: One of ``DIFFERS``, ``MISSING``, ``UNCOVERED``.
    """

    level: int
    index: int
    last_index: int
    detail: str

    def describe(self) -> str:
        """What is wrong, naming the nodes and the leaves they cover."""
        first, last = self.index, self.last_index
        nodes = f"node {first}" if first == last else f"nodes {first}..{last}"
        leaves = f"leaves {first << self.level}..{((last + 1) << self.level) - 1}"
        verb = "is" if first == last else "are"
        return f"stored tree {nodes} of level {self.level} ({leaves}) {verb} {self.detail}"


def stored_node_mismatches(
    tree: TreeStore, leaves: Sequence[bytes], tree_size: int, flagged: Collection[int] = ()
) -> Iterator[NodeMismatch]:
    """Compare every stored node with the tree rebuilt from ``leaves``.

    Args:
        tree: The stored levels.
        leaves: Leaf hashes recomputed from the events, the first ``tree_size``
            (or as many as are intact, when fewer) are used.
        tree_size: The latest checkpoint's size: the stored levels should hold
            exactly the perfect subtrees of that tree.
        flagged: Entries already reported bad (modified, missing ...): the
            nodes above them cannot be judged, so they are not reported.

    Yields:
        Each mismatch, level by level, in index order.
    """
    rebuilt = TreeLevels(leaves[: min(tree_size, len(leaves))])
    for level in range(1, max(tree.top_level(), rebuilt.height - 1) + 1):
        unjudged = {index >> level for index in flagged}
        for mismatch in _level_mismatches(tree, level, rebuilt.level(level), tree_size):
            if mismatch.detail != DIFFERS or mismatch.index not in unjudged:
                yield mismatch


def _level_mismatches(
    tree: TreeStore, level: int, expected: Sequence[bytes], tree_size: int
) -> Iterator[NodeMismatch]:
    covered = tree_size >> level  # nodes of this level in the checkpoint's tree
    wanted = 0  # next node index we expect to see stored
    for index, value in tree.iter_level(level):
        if index > wanted and wanted < len(expected):
            last = min(index, len(expected)) - 1
            yield NodeMismatch(level, wanted, last, MISSING)
        wanted = index + 1
        if index >= covered:
            yield NodeMismatch(level, index, index, UNCOVERED)
        elif index < len(expected) and not hmac.compare_digest(value, expected[index]):
            yield NodeMismatch(level, index, index, DIFFERS)
        # A node under the checkpoint's size but past the intact leaves cannot be
        # rebuilt; the missing events are reported on their own.
    if wanted < len(expected):
        yield NodeMismatch(level, wanted, len(expected) - 1, MISSING)
