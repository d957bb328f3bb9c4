"""Tamper-evident audit log: canonical events, an RFC 9162 Merkle tree, signed checkpoints.

The pure cryptographic core lives in ``canonical`` (event encoding), ``merkle``
(tree hashing, proofs, incremental frontier), ``checkpoint`` (C2SP signed-note
checkpoints), ``receipt`` (per-response signed receipts) and ``errors``.
"""
