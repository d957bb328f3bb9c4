"""Proofs built from perfect-subtree hashes instead of from every leaf.

:func:`gateway.audit.merkle.inclusion_proof` recomputes each sibling subtree
from its leaves, which is right for a verifier holding them and far too slow
for a log of millions. Every element of an RFC 9162 proof is the hash of a
range that decomposes into O(log n) perfect subtrees
(:func:`~gateway.audit.merkle.perfect_subtrees`), so a store that keeps those
subtrees' hashes answers any proof with O(log n) reads:

* :class:`ProofPlan` says which subtrees a proof needs and folds their hashes
  into the proof's elements (:func:`inclusion_plan`, :func:`consistency_plan`);
* :class:`TreeLevels` holds every perfect subtree of a tree in memory, for
  many proofs over one tree and for checking stored levels.

Tests check both against ``merkle`` and the RFC's recursive definitions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.audit.errors import TreeStateError
from gateway.audit.merkle import (
    consistency_ranges,
    fold_subtrees,
    inclusion_ranges,
    node_hash,
    perfect_subtrees,
)

__all__ = ["NodeKey", "ProofPlan", "TreeLevels", "consistency_plan", "inclusion_plan"]

#: A perfect subtree by position: ``(level, index)``, covering the ``2**level``
#: leaves from ``index * 2**level`` on. Level 0 is a leaf.
NodeKey = tuple[int, int]


@dataclass(frozen=True)
class ProofPlan:
    """The perfect subtrees a proof is made of, element by element.

    Attributes:
        elements: For each proof element, in proof order, the keys of the
            perfect subtrees whose fold is that element's hash.
    """

    elements: tuple[tuple[NodeKey, ...], ...]

    @classmethod
    def of_ranges(cls, ranges: Sequence[tuple[int, int]]) -> ProofPlan:
        """The plan of a proof whose elements hash these leaf ranges."""
        return cls(tuple(tuple(perfect_subtrees(start, end)) for start, end in ranges))

    def nodes(self) -> set[NodeKey]:
        """Every subtree the proof needs (at most 2 per level of the tree)."""
        return {key for element in self.elements for key in element}

    def assemble(self, hashes: Mapping[NodeKey, bytes]) -> list[bytes]:
        """Fold the subtrees' hashes into the proof.

        Args:
            hashes: At least the hashes of :meth:`nodes`.

        Returns:
            The proof's hashes, in proof order.

        Raises:
            TreeStateError: If a subtree's hash is missing.
        """
        proof = []
        for element in self.elements:
            try:
                proof.append(fold_subtrees([hashes[key] for key in element]))
            except KeyError as error:
                level, index = error.args[0]
                raise TreeStateError(f"no stored hash of node {index} at level {level}") from None
        return proof


def inclusion_plan(index: int, tree_size: int) -> ProofPlan:
    """The subtrees of PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1).

    Raises:
        ValueError: Unless ``0 <= index < tree_size``.
    """
    return ProofPlan.of_ranges(inclusion_ranges(index, tree_size))


def consistency_plan(size1: int, size2: int) -> ProofPlan:
    """The subtrees of PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1).

    Raises:
        ValueError: Unless ``0 < size1 <= size2``.
    """
    return ProofPlan.of_ranges(consistency_ranges(size1, size2))


class TreeLevels:
    """The perfect-subtree hashes of a tree, level by level.

    Args:
        leaf_hashes: The tree's leaf hashes, in log order.
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self.size = len(leaf_hashes)
        self._levels = [list(leaf_hashes)]
        while len(self._levels[-1]) > 1:
            below = self._levels[-1]
            self._levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    def level(self, level: int) -> list[bytes]:
        """The hashes of every perfect subtree of ``2**level`` leaves, left to right."""
        return self._levels[level] if level < len(self._levels) else []

    @property
    def height(self) -> int:
        """How many levels hold a perfect subtree, leaves included (0 for no leaves)."""
        return len(self._levels) if self.size else 0

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range of the RFC's decomposition of this tree."""
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            return self._levels[width.bit_length() - 1][start // width]
        # RFC 9162 §2.1.1: split at the largest power of two below the width.
        split = start + (1 << ((width - 1).bit_length() - 1))
        return node_hash(self.subtree(start, split), self.subtree(split, end))

    def inclusion_proof(self, index: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the whole tree (RFC 9162 §2.1.3.1).

        Raises:
            ValueError: If there is no such leaf.
        """
        return [self.subtree(start, end) for start, end in inclusion_ranges(index, self.size)]
