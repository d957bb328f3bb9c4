"""Many inclusion proofs over one tree, in linear time overall.

:func:`gateway.audit.merkle.inclusion_proof` recomputes each sibling subtree
from its leaves, which is right for one proof and quadratic for an export of
many. :class:`TreeLevels` hashes every perfect subtree once and builds the same
RFC 9162 §2.1.3.1 audit paths from them; tests check it against ``merkle``.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.audit.merkle import node_hash

__all__ = ["TreeLevels"]


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
        if not 0 <= index < self.size:
            raise ValueError(f"no leaf {index} in a tree of size {self.size}")
        path: list[bytes] = []
        start, end = 0, self.size
        while end - start > 1:
            middle = start + (1 << ((end - start - 1).bit_length() - 1))
            if index < middle:
                path.append(self.subtree(middle, end))
                end = middle
            else:
                path.append(self.subtree(start, middle))
                start = middle
        path.reverse()
        return path
