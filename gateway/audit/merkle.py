"""RFC 9162 Merkle tree hashing, proofs and an incremental frontier.

The audit log's events are the leaves of a Merkle tree exactly as Certificate
Transparency 2.0 defines it (RFC 9162 §2.1), so that any independent RFC 9162
implementation can check our proofs. Everything here is pure computation over
32-byte SHA-256 hashes; storing leaf hashes is the caller's business.

Proof *generation* trusts its input (the log's own leaf hashes) and raises
``ValueError`` on impossible arguments. Proof *verification* treats every
input as hostile and raises :class:`~gateway.audit.errors.ProofError`; it never
returns a boolean that a caller could forget to check.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from gateway.audit.canonical import decode_base64, encode_base64
from gateway.audit.errors import ProofError, TreeStateError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "FrontierState",
    "MerkleFrontier",
    "TreeNode",
    "consistency_proof",
    "consistency_ranges",
    "fold_subtrees",
    "inclusion_proof",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "perfect_subtrees",
    "root_from_leaf_hashes",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

#: Size in bytes of every hash in the tree (SHA-256).
HASH_SIZE = 32

# RFC 9162 §2.1.1: distinct prefixes for leaves and interior nodes, so that a
# leaf can never be passed off as an interior node (second-preimage defence).
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

#: MTH({}) = HASH(), the root of the empty tree (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Hash one leaf: ``SHA-256(0x00 || data)`` (RFC 9162 §2.1.1).

    Args:
        data: The leaf's bytes, for credgate an event's canonical JSON.

    Returns:
        The 32-byte leaf hash.
    """
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node: ``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1).

    Args:
        left: Hash of the left subtree.
        right: Hash of the right subtree.

    Returns:
        The 32-byte node hash.
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Compute the Merkle tree hash MTH of a list of leaf hashes (RFC 9162 §2.1.1).

    Works level by level, carrying an unpaired last node up unchanged. That is
    the same tree as the RFC's recursive split at the largest power of two
    below ``n``, computed with ``n - 1`` hashes and no recursion.

    Args:
        hashes: The leaf hashes, in log order.

    Returns:
        The 32-byte root; :data:`EMPTY_ROOT` for no leaves.
    """
    level = list(hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        level = _parent_level(level)
    return level[0]


def _parent_level(level: list[bytes]) -> list[bytes]:
    sha256 = hashlib.sha256
    prefix = _NODE_PREFIX
    parents = [
        sha256(prefix + left + right).digest()
        for left, right in zip(level[0::2], level[1::2], strict=False)
    ]
    if len(level) % 2:
        parents.append(level[-1])
    return parents


def subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """Compute MTH(D[start:end]), the hash of a contiguous range of leaves.

    Args:
        leaf_hashes: The log's leaf hashes.
        start: First leaf of the range.
        end: One past the last leaf of the range.

    Returns:
        The 32-byte hash of the range.

    Raises:
        ValueError: If the range is not within ``leaf_hashes``.
    """
    if not 0 <= start <= end <= len(leaf_hashes):
        raise ValueError(f"range [{start}, {end}) is not within {len(leaf_hashes)} leaves")
    return root_from_leaf_hashes(leaf_hashes[start:end])


def _split_point(n: int) -> int:
    # RFC 9162 §2.1.1: k is the largest power of two smaller than n (n > 1).
    return 1 << ((n - 1).bit_length() - 1)


@dataclass(frozen=True, slots=True)
class TreeNode:
    """A perfect subtree: the ``2**level`` leaves from ``index * 2**level`` on, and its hash.

    Level 0 nodes are the leaves themselves. A node exists once its last leaf
    is in the tree, and never changes after (RFC 9162 trees only grow).
    """

    level: int
    index: int
    hash: bytes


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose a range of the RFC 9162 tree into its perfect subtrees.

    Every range MTH(D[start:end]) that RFC 9162 §2.1.1 splits a tree into
    (and so every element of an inclusion or consistency proof) starts at a
    multiple of a power of two at least as large as its width. Its hash is
    then the right fold, with :func:`node_hash`, of one perfect subtree per
    set bit of the width, largest (leftmost) first; :func:`fold_subtrees`
    computes it.

    Args:
        start: First leaf of the range.
        end: One past the last leaf of the range.

    Returns:
        ``(level, index)`` of each perfect subtree, left to right.

    Raises:
        ValueError: If the range is empty or not aligned as described.
    """
    width = end - start
    if width <= 0 or start < 0:
        raise ValueError(f"range [{start}, {end}) is empty")
    if start % (1 << (width - 1).bit_length()):
        raise ValueError(f"range [{start}, {end}) is not a subtree of an RFC 9162 tree")
    keys: list[tuple[int, int]] = []
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def fold_subtrees(hashes: Sequence[bytes]) -> bytes:
    """Hash a range from the hashes of its :func:`perfect_subtrees`, left to right.

    The RFC's split puts the larger perfect subtree on the left at every
    level, so the range's hash folds the subtree hashes from the right.

    Args:
        hashes: The perfect subtrees' hashes; at least one.

    Returns:
        The 32-byte hash of the range.
    """
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1).

    Walks from the root down to the leaf, taking the sibling subtree at each
    split. Each range is one MTH(D[start:end]) of the proof, in proof order;
    the caller hashes them from leaves or from stored subtree hashes.

    Args:
        index: The leaf to prove.
        tree_size: The size of the tree the proof is for.

    Returns:
        ``(start, end)`` pairs, from the leaf's sibling up to the root's child.

    Raises:
        ValueError: Unless ``0 <= index < tree_size``.
    """
    if not 0 <= index < tree_size:
        raise ValueError(f"no leaf {index} in a tree of size {tree_size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + _split_point(end - start)
        if index < middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start = middle
    ranges.reverse()
    return ranges


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """Build the inclusion proof PATH(index, D[0:tree_size]) (RFC 9162 §2.1.3.1).

    The siblings of :func:`inclusion_ranges` are disjoint, so the cost is at
    most ``tree_size`` hashes.

    Args:
        leaf_hashes: The log's leaf hashes; only the first ``tree_size`` are used.
        index: The leaf to prove.
        tree_size: The size of the tree the proof is for.

    Returns:
        The audit path, ordered from the leaf's sibling up to the root's child.

    Raises:
        ValueError: Unless ``0 <= index < tree_size <= len(leaf_hashes)``.
    """
    if not 0 <= index < tree_size <= len(leaf_hashes):
        raise ValueError(f"no leaf {index} in a tree of size {tree_size}")
    return [subtree_root(leaf_hashes, s, e) for s, e in inclusion_ranges(index, tree_size)]


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1).

    An iterative form of the RFC's SUBPROOF(m, D[n], b): descend towards the
    last leaf of the old tree, recording the sibling subtree at each split;
    if the descent ends inside a subtree that was not part of the old tree's
    own decomposition (``b`` false), that subtree is needed too.

    Args:
        size1: Size of the older tree.
        size2: Size of the newer tree.

    Returns:
        ``(start, end)`` pairs in proof order; empty when the sizes are equal.

    Raises:
        ValueError: Unless ``0 < size1 <= size2``.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    ranges: list[tuple[int, int]] = []
    start, end, is_old_subtree = 0, size2, True
    while size1 != end:
        middle = start + _split_point(end - start)
        if size1 <= middle:
            ranges.append((middle, end))
            end = middle
        else:
            ranges.append((start, middle))
            start, is_old_subtree = middle, False
    if not is_old_subtree:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """Build the consistency proof PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1).

    Args:
        leaf_hashes: The log's leaf hashes; only the first ``size2`` are used.
        size1: Size of the older tree.
        size2: Size of the newer tree.

    Returns:
        The consistency path (see :func:`consistency_ranges`); empty when the
        sizes are equal.

    Raises:
        ValueError: Unless ``0 < size1 <= size2 <= len(leaf_hashes)``.
    """
    if not 0 < size1 <= size2 <= len(leaf_hashes):
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    return [subtree_root(leaf_hashes, s, e) for s, e in consistency_ranges(size1, size2)]


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify an inclusion proof exactly as RFC 9162 §2.1.3.2 describes.

    Args:
        leaf_hash: Hash of the leaf, recomputed by the verifier from the event.
        index: The leaf's index in the log.
        tree_size: Size of the tree the proof is for.
        proof: The inclusion path.
        root: The tree's root hash, from a checkpoint the verifier trusts.

    Raises:
        ProofError: If the proof does not show the leaf at ``index`` in a
            tree of ``tree_size`` leaves with root ``root``.
    """
    _require_hash(leaf_hash, "leaf hash")
    _require_proof_hashes(proof)
    _require_non_negative(index=index, tree_size=tree_size)
    # Step 1: an index at or beyond the tree size cannot be in the tree.
    if index >= tree_size:
        raise ProofError(f"leaf index {index} is not below tree size {tree_size}")
    # Steps 2 and 3.
    fn, sn, r = index, tree_size - 1, leaf_hash
    # Step 4.
    for p in proof:
        # 4a: more path elements than levels in the tree.
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_while_even(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    # Step 5: the path must reach the root exactly, and give the root hash.
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    if not hmac.compare_digest(r, root):
        raise ProofError("inclusion proof does not lead to the expected root hash")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Verify a consistency proof exactly as RFC 9162 §2.1.4.2 describes.

    The RFC defines the algorithm for ``0 < size1 < size2``. Equal sizes are
    consistent exactly when the proof is empty and the roots are equal. A
    proof from the empty tree proves nothing and is rejected: a witness whose
    last checkpoint has size 0 accepts any successor without one.

    Args:
        size1: Size of the older tree.
        size2: Size of the newer tree.
        proof: The consistency path.
        root1: Root hash of the older tree, as the verifier last saw it.
        root2: Root hash of the newer tree.

    Raises:
        ProofError: If the proof does not show that the tree of ``size2``
            leaves with root ``root2`` extends the one with ``root1``.
    """
    _require_proof_hashes(proof)
    _require_non_negative(size1=size1, size2=size2)
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless")
    if size2 < size1:
        raise ProofError(f"tree size {size2} is smaller than earlier size {size1}")
    if size1 == size2:
        _verify_same_tree(proof, root1, root2)
        return
    fr, sr = _chain_consistency(size1, size2, proof, root1)
    # Step 7: both roots must be reproduced from the same path.
    if not hmac.compare_digest(fr, root1):
        raise ProofError("consistency proof does not lead to the earlier root hash")
    if not hmac.compare_digest(sr, root2):
        raise ProofError("consistency proof does not lead to the later root hash")


def _verify_same_tree(proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    if proof:
        raise ProofError("tree sizes are equal but the consistency proof is not empty")
    if not hmac.compare_digest(root1, root2):
        raise ProofError("tree sizes are equal but the root hashes differ")


def _chain_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> tuple[bytes, bytes]:
    # RFC 9162 §2.1.4.2, steps 1 to 6 and the "sn is 0" part of step 7.
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    # Step 2: a power-of-two old tree is a complete subtree, so its own root
    # starts the path and the log need not send it.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # Steps 3 and 4.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_while_even(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree is deep")
    return fr, sr


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    # "right-shift both fn and sn equally until either LSB(fn) is set or fn is 0"
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def _require_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _require_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, element in enumerate(proof):
        _require_hash(element, f"proof element {position}")


def _require_non_negative(**values: int) -> None:
    for name, value in values.items():
        if value < 0:
            raise ProofError(f"{name} {value} is negative")


class FrontierState(TypedDict):
    """JSON-ready form of a :class:`MerkleFrontier`, for persisting it."""

    size: int
    hashes: list[str]


class MerkleFrontier:
    """The right edge of an RFC 9162 tree, enough to extend it and compute its root.

    A tree of ``n`` leaves decomposes into perfect subtrees, one per set bit
    of ``n``, largest (leftmost) first. Keeping just their roots, O(log n)
    hashes, lets the integrator append leaves and compute the new root
    without reading the old leaves. Before extending a restored frontier,
    compare its :meth:`root` and :attr:`size` with the last signed checkpoint:
    the extended tree is then consistent with that checkpoint by construction.

    Example:
        >>> frontier = MerkleFrontier()
        >>> frontier.append(leaf_hash(b"event"))
        >>> frontier.root() == root_from_leaf_hashes([leaf_hash(b"event")])
        True
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._hashes: list[bytes] = []
        self._size = 0

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> MerkleFrontier:
        """Build the frontier of a tree from all of its leaf hashes.

        Args:
            leaf_hashes: The leaf hashes, in log order.

        Returns:
            The frontier of that tree.
        """
        frontier = cls()
        frontier.extend(leaf_hashes)
        return frontier

    @property
    def size(self) -> int:
        """Number of leaves in the tree."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Roots of the perfect subtrees, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf to the right of the tree.

        Args:
            leaf_hash: The new leaf's hash.

        Raises:
            ValueError: If ``leaf_hash`` is not a 32-byte hash.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
        node, size = leaf_hash, self._size
        # Each trailing one bit of the old size is a perfect subtree of the
        # same height as ``node``: merge them, as binary addition carries.
        while size & 1:
            node = node_hash(self._hashes.pop(), node)
            size >>= 1
        self._hashes.append(node)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add leaves to the right of the tree, in order.

        Args:
            leaf_hashes: The new leaves' hashes.

        Raises:
            ValueError: If any is not a 32-byte hash.
        """
        for value in leaf_hashes:
            self.append(value)

    def grow(self, leaf_hashes: Iterable[bytes]) -> list[TreeNode]:
        """Add leaves to the right of the tree and return the interior nodes they complete.

        Each carry of :meth:`append` completes one perfect subtree; these are
        what a store of the tree's levels keeps, so that a proof needs only
        O(log n) stored hashes (leaves, level 0, are not returned).

        Args:
            leaf_hashes: The new leaves' hashes, in order.

        Returns:
            The completed nodes of level 1 and up, in the order they completed.

        Raises:
            ValueError: If any is not a 32-byte hash.
        """
        completed: list[TreeNode] = []
        hashes = self._hashes
        for value in leaf_hashes:
            if len(value) != HASH_SIZE:
                raise ValueError(f"leaf hash is {len(value)} bytes, not {HASH_SIZE}")
            node, size, level, index = value, self._size, 0, self._size
            while size & 1:
                node = node_hash(hashes.pop(), node)
                size, level, index = size >> 1, level + 1, index >> 1
                completed.append(TreeNode(level, index, node))
            hashes.append(node)
            self._size += 1
        return completed

    @classmethod
    def from_subtrees(cls, size: int, hashes: Sequence[bytes]) -> MerkleFrontier:
        """Restore the frontier of a tree from the hashes of its perfect subtrees.

        Args:
            size: Number of leaves in the tree.
            hashes: The hashes of ``perfect_subtrees(0, size)``, left to right.

        Returns:
            The frontier of that tree.

        Raises:
            TreeStateError: If the number or length of the hashes is wrong.
        """
        if size < 0 or len(hashes) != size.bit_count():
            raise TreeStateError(f"a tree of size {size} needs {size.bit_count()} frontier hashes")
        if any(len(value) != HASH_SIZE for value in hashes):
            raise TreeStateError(f"a frontier hash is not {HASH_SIZE} bytes")
        frontier = cls()
        frontier._hashes = list(hashes)
        frontier._size = size
        return frontier

    def root(self) -> bytes:
        """Compute the tree's root hash, MTH of all its leaves (RFC 9162 §2.1.1).

        Returns:
            The 32-byte root; :data:`EMPTY_ROOT` for the empty tree.
        """
        if not self._hashes:
            return EMPTY_ROOT
        return fold_subtrees(self._hashes)

    def to_dict(self) -> FrontierState:
        """Serialize the frontier for storage.

        Returns:
            ``{"size": n, "hashes": [base64, ...]}``, ready for JSON.
        """
        return {"size": self._size, "hashes": [encode_base64(h) for h in self._hashes]}

    @classmethod
    def from_dict(cls, state: Mapping[str, object]) -> MerkleFrontier:
        """Restore a frontier serialized by :meth:`to_dict`.

        Args:
            state: The stored form; treated as untrusted.

        Returns:
            The restored frontier.

        Raises:
            TreeStateError: If the size or hashes are malformed, or the number
                of hashes does not match the size.
        """
        size, encoded = state.get("size"), state.get("hashes")
        if type(size) is not int or size < 0:
            raise TreeStateError(f"frontier size {size!r} is not a non-negative integer")
        if not isinstance(encoded, list):
            raise TreeStateError("frontier hashes are not a list")
        # One perfect subtree per set bit of the size, no more and no fewer.
        if len(encoded) != size.bit_count():
            raise TreeStateError(f"a tree of size {size} needs {size.bit_count()} frontier hashes")
        frontier = cls()
        frontier._hashes = [_decode_frontier_hash(item) for item in encoded]
        frontier._size = size
        return frontier

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MerkleFrontier):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]  # mutable, so unhashable

    def __repr__(self) -> str:
        return f"MerkleFrontier(size={self._size}, root={self.root().hex()})"


def _decode_frontier_hash(item: object) -> bytes:
    if not isinstance(item, str):
        raise TreeStateError("frontier hash is not a string")
    try:
        value = decode_base64(item)
    except ValueError as exc:
        raise TreeStateError(f"frontier hash is not base64: {exc}") from exc
    if len(value) != HASH_SIZE:
        raise TreeStateError(f"frontier hash is {len(value)} bytes, not {HASH_SIZE}")
    return value
