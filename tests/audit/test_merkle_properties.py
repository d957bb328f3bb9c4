"""Exhaustive properties of the Merkle code on every tree of 1 to 70 leaves.

Proof generation and the root are checked against a direct transcription of
the recursive definitions in RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import pytest

from gateway.audit.errors import ProofError, TreeStateError
from gateway.audit.merkle import (
    EMPTY_ROOT,
    MerkleFrontier,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 70
LEAVES = [leaf_hash(f"event {i}".encode()) for i in range(MAX_SIZE)]
SIZES = range(1, MAX_SIZE + 1)


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + _mth(d[:k]) + _mth(d[k:])).digest()


def _path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*_path(m, d[:k]), _mth(d[k:])]
    return [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


ROOTS = [_mth(LEAVES[:n]) for n in range(MAX_SIZE + 1)]


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def test_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()
    assert root_from_leaf_hashes([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", SIZES)
def test_root_matches_rfc_definition(size: int) -> None:
    assert root_from_leaf_hashes(LEAVES[:size]) == ROOTS[size]


def test_subtree_root_of_ranges() -> None:
    for start in range(MAX_SIZE + 1):
        for end in range(start, MAX_SIZE + 1, 7):
            assert subtree_root(LEAVES, start, end) == _mth(LEAVES[start:end])
    with pytest.raises(ValueError, match="not within"):
        subtree_root(LEAVES, 3, MAX_SIZE + 1)


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof_verifies(size: int) -> None:
    for index in range(size):
        proof = inclusion_proof(LEAVES, index, size)
        assert proof == _path(index, LEAVES[:size])
        verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 31, 64, 70])
def test_altered_inclusion_proofs_are_rejected(size: int) -> None:
    for index in range(size):
        proof = inclusion_proof(LEAVES, index, size)
        other = (index + 1) % size
        bad_calls = [
            (_flip(LEAVES[index]), index, size, proof, ROOTS[size]),
            (LEAVES[index], index, size, [*proof, LEAVES[0]], ROOTS[size]),
            (LEAVES[index], index, size, proof, ROOTS[size - 1]),
        ]
        # The size alone is not bound by the path (the signed checkpoint binds
        # it), but the root of a bigger tree must not be reachable.
        if size < MAX_SIZE:
            bad_calls.append((LEAVES[index], index, size + 1, proof, ROOTS[size + 1]))
        if size > 1:
            bad_calls.append((LEAVES[index], other, size, proof, ROOTS[size]))
            bad_calls.append((LEAVES[index], index, size, proof[:-1], ROOTS[size]))
        for position in range(len(proof)):
            flipped = [*proof[:position], _flip(proof[position]), *proof[position + 1 :]]
            bad_calls.append((LEAVES[index], index, size, flipped, ROOTS[size]))
        for call in bad_calls:
            with pytest.raises(ProofError):
                verify_inclusion(*call)


@pytest.mark.parametrize("size2", SIZES)
def test_every_consistency_proof_verifies(size2: int) -> None:
    for size1 in range(1, size2 + 1):
        proof = consistency_proof(LEAVES, size1, size2)
        assert proof == _subproof(size1, LEAVES[:size2], True)
        verify_consistency(size1, size2, proof, ROOTS[size1], ROOTS[size2])


@pytest.mark.parametrize("size2", [2, 3, 7, 8, 9, 33, 70])
def test_altered_consistency_proofs_are_rejected(size2: int) -> None:
    for size1 in range(1, size2):
        proof = consistency_proof(LEAVES, size1, size2)
        root1, root2 = ROOTS[size1], ROOTS[size2]
        bad_calls = [
            (size1, size2, proof, root2, root1),
            (size1, size2, proof, ROOTS[size1 - 1], root2),
            (size1, size2, proof, root1, ROOTS[size2 - 1]),
            (size1, size2, proof[:-1], root1, root2),
            (size1, size2, [*proof, root1], root1, root2),
            (size2, size1, proof, root2, root1),
        ]
        for position in range(len(proof)):
            flipped = [*proof[:position], _flip(proof[position]), *proof[position + 1 :]]
            bad_calls.append((size1, size2, flipped, root1, root2))
        for call in bad_calls:
            with pytest.raises(ProofError):
                verify_consistency(*call)


def test_verifiers_reject_impossible_arguments() -> None:
    with pytest.raises(ProofError, match="leaf hash is 31 bytes"):
        verify_inclusion(LEAVES[0][:31], 0, 1, [], ROOTS[1])
    with pytest.raises(ProofError, match="proof element 0"):
        verify_inclusion(LEAVES[0], 0, 2, [b"short"], ROOTS[2])
    with pytest.raises(ProofError, match="negative"):
        verify_inclusion(LEAVES[0], -1, 1, [], ROOTS[1])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 5, [], EMPTY_ROOT, ROOTS[5])


def test_generators_reject_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="no leaf"):
        inclusion_proof(LEAVES, 5, 5)
    with pytest.raises(ValueError, match="no leaf"):
        inclusion_proof(LEAVES[:3], 0, 4)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(LEAVES, 0, 4)
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(LEAVES, 5, 4)


def test_frontier_root_matches_recomputation_at_every_size() -> None:
    frontier = MerkleFrontier()
    assert (frontier.size, frontier.root()) == (0, EMPTY_ROOT)
    for size in SIZES:
        frontier.append(LEAVES[size - 1])
        assert frontier.size == size
        assert len(frontier.hashes) == size.bit_count()
        assert frontier.root() == ROOTS[size]


@pytest.mark.parametrize("size", range(MAX_SIZE + 1))
def test_frontier_round_trips_through_json(size: int) -> None:
    frontier = MerkleFrontier.from_leaf_hashes(LEAVES[:size])
    stored = json.loads(json.dumps(frontier.to_dict()))
    restored = MerkleFrontier.from_dict(stored)
    assert restored == frontier
    assert restored.root() == ROOTS[size]
    # A restored frontier keeps growing into the same tree.
    restored.extend(LEAVES[size:])
    assert restored.root() == ROOTS[MAX_SIZE]


def test_frontier_rejects_wrong_leaf_hash_size() -> None:
    with pytest.raises(ValueError, match="leaf hash is 3 bytes"):
        MerkleFrontier().append(b"abc")


@pytest.mark.parametrize(
    "state",
    [
        {"size": 3, "hashes": ["AA=="]},
        {"size": 3, "hashes": []},
        {"size": -1, "hashes": []},
        {"size": True, "hashes": ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]},
        {"size": "1", "hashes": ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]},
        {"size": 1, "hashes": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
        {"size": 1, "hashes": [1]},
        {"size": 1, "hashes": ["not base64!"]},
        {"size": 1, "hashes": ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"]},
        {"size": 2, "hashes": ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "AA=="]},
        {"hashes": []},
    ],
)
def test_frontier_rejects_corrupt_state(state: dict[str, object]) -> None:
    with pytest.raises(TreeStateError) as caught:
        MerkleFrontier.from_dict(state)
    assert caught.value.code == "AUDIT_TREE_STATE_INVALID"
