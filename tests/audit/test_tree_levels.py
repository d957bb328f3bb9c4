"""Proofs from perfect-subtree hashes equal proofs from every leaf (pure, no database).

``gateway.audit.proofs`` plans each RFC 9162 proof as folds of perfect subtrees;
``MerkleFrontier.grow`` yields exactly the subtrees a store keeps. Together they
must give the proofs of ``gateway.audit.merkle`` (itself checked against the RFC's
recursive definitions and the transparency-dev vectors) for every tree of 1 to
300 leaves and random larger ones.
"""

from __future__ import annotations

import math
import random

import pytest

from gateway.audit.errors import TreeStateError
from gateway.audit.merkle import (
    MerkleFrontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    perfect_subtrees,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)
from gateway.audit.proofs import NodeKey, ProofPlan, TreeLevels, consistency_plan, inclusion_plan

MAX_SIZE = 300
LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(4096)]


def _stored(leaves: list[bytes], grown_in: int = 7) -> dict[NodeKey, bytes]:
    """The nodes a store would hold, grown a few leaves per round as the integrator does."""
    frontier = MerkleFrontier()
    nodes: dict[NodeKey, bytes] = {(0, i): h for i, h in enumerate(leaves)}
    for start in range(0, len(leaves), grown_in):
        for node in frontier.grow(leaves[start : start + grown_in]):
            assert (node.level, node.index) not in nodes  # each node completes once
            nodes[node.level, node.index] = node.hash
    assert frontier.root() == root_from_leaf_hashes(leaves)
    return nodes


STORED = _stored(LEAVES[:MAX_SIZE])


def _positions(size: int, first: int = 0) -> list[int]:
    """Every position below 64; above, the edges and an even spread (fast enough)."""
    if size - first <= 64:
        return list(range(first, size))
    step = (size - first) // 40
    return sorted({first, first + 1, size - 2, size - 1, *range(first, size, step)})


def test_grow_yields_every_perfect_subtree_once_with_its_hash() -> None:
    levels = TreeLevels(LEAVES[:MAX_SIZE])
    expected = {
        (level, index): value
        for level in range(1, levels.height)
        for index, value in enumerate(levels.level(level))
    }
    assert {key: value for key, value in STORED.items() if key[0] > 0} == expected
    # About one interior node per leaf: O(1) writes per leaf, amortised.
    assert len(expected) == MAX_SIZE - MAX_SIZE.bit_count()


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_inclusion_proofs_from_stored_levels_equal_proofs_from_leaves(size: int) -> None:
    leaves = LEAVES[:size]
    bound = 2 * math.ceil(math.log2(size)) if size > 1 else 0
    for index in _positions(size):
        plan = inclusion_plan(index, size)
        assert len(plan.nodes()) <= bound
        assert plan.nodes() <= STORED.keys()
        assert plan.assemble(STORED) == inclusion_proof(leaves, index, size)


@pytest.mark.parametrize("size2", range(1, MAX_SIZE + 1))
def test_consistency_proofs_from_stored_levels_equal_proofs_from_leaves(size2: int) -> None:
    leaves = LEAVES[:size2]
    bound = 2 * math.ceil(math.log2(size2)) + 1 if size2 > 1 else 0
    for size1 in _positions(size2 + 1, first=1):
        plan = consistency_plan(size1, size2)
        assert len(plan.nodes()) <= bound
        assert plan.assemble(STORED) == consistency_proof(leaves, size1, size2)


def test_random_larger_trees() -> None:
    rng = random.Random(9162)
    stored = _stored(LEAVES, grown_in=333)
    for _ in range(400):
        size2 = rng.randint(MAX_SIZE, len(LEAVES))
        size1, index = rng.randint(1, size2), rng.randrange(size2)
        root1, root2 = subtree_root(LEAVES, 0, size1), subtree_root(LEAVES, 0, size2)
        path = inclusion_plan(index, size2).assemble(stored)
        verify_inclusion(LEAVES[index], index, size2, path, root2)
        proof = consistency_plan(size1, size2).assemble(stored)
        verify_consistency(size1, size2, proof, root1, root2)
    # And one exact comparison at the largest size.
    size = len(LEAVES)
    assert inclusion_plan(1234, size).assemble(stored) == inclusion_proof(LEAVES, 1234, size)
    assert consistency_plan(1000, size).assemble(stored) == consistency_proof(LEAVES, 1000, size)


def test_perfect_subtrees_decompose_aligned_ranges_only() -> None:
    assert perfect_subtrees(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert perfect_subtrees(8, 13) == [(2, 2), (0, 12)]
    assert perfect_subtrees(5, 6) == [(0, 5)]
    # [2, 7) is no subtree of any RFC 9162 tree: its pieces would not be perfect.
    with pytest.raises(ValueError, match="not a subtree"):
        perfect_subtrees(2, 7)
    with pytest.raises(ValueError, match="empty"):
        perfect_subtrees(4, 4)


def test_a_missing_node_is_a_tree_state_error_naming_it() -> None:
    plan = inclusion_plan(0, 8)
    partial = {key: value for key, value in STORED.items() if key != (2, 1)}
    with pytest.raises(TreeStateError, match="node 1 at level 2"):
        plan.assemble(partial)
    assert ProofPlan(()).assemble({}) == []


def test_frontier_restored_from_subtrees_extends_like_the_original() -> None:
    size = 77
    hashes = [STORED[key] for key in perfect_subtrees(0, size)]
    restored = MerkleFrontier.from_subtrees(size, hashes)
    assert restored == MerkleFrontier.from_leaf_hashes(LEAVES[:size])
    restored.grow(LEAVES[size:200])
    assert restored.root() == root_from_leaf_hashes(LEAVES[:200])
    with pytest.raises(TreeStateError):
        MerkleFrontier.from_subtrees(size, hashes[:-1])
    with pytest.raises(TreeStateError):
        MerkleFrontier.from_subtrees(size, [*hashes[:-1], b"short"])
