"""Typed errors of the audit log's cryptographic core.

Each error carries a stable ``code`` (for ``credgate audit verify`` reports and
for a GraphQL layer that chooses to expose it) and a human ``reason``:

    AuditError                AUDIT_ERROR: base; ``code``, ``reason``
    ├── CanonicalJSONError    AUDIT_CANONICAL_JSON_INVALID: a value has no canonical form
    ├── ProofError            AUDIT_PROOF_INVALID: an RFC 9162 proof does not verify
    ├── TreeStateError        AUDIT_TREE_STATE_INVALID: a persisted frontier is corrupt
    ├── CheckpointError       AUDIT_CHECKPOINT_INVALID: a signed checkpoint is rejected
    └── ReceiptError          AUDIT_RECEIPT_INVALID: a receipt does not match its event

These deliberately do not derive from ``gateway.errors.CredgateError``: those
reach clients as they are, while a failed proof or a float in an event is an
integrity or programming problem that the gateway must mask or translate.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AuditError",
    "CanonicalJSONError",
    "CheckpointError",
    "ProofError",
    "ReceiptError",
    "TreeStateError",
]


class AuditError(Exception):
    """Base of the audit log's errors, each with a stable code and a reason.

    Attributes:
        code: Stable machine-readable identifier, the same for every instance.
        reason: What exactly failed, for an operator or auditor to read.
    """

    code: ClassVar[str] = "AUDIT_ERROR"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class CanonicalJSONError(AuditError):
    """A value cannot be encoded as canonical JSON (a float, a non-string key ...)."""

    code = "AUDIT_CANONICAL_JSON_INVALID"


class ProofError(AuditError):
    """An inclusion or consistency proof failed RFC 9162 verification."""

    code = "AUDIT_PROOF_INVALID"


class TreeStateError(AuditError):
    """A serialized Merkle frontier is malformed or inconsistent with its size."""

    code = "AUDIT_TREE_STATE_INVALID"


class CheckpointError(AuditError):
    """A checkpoint or signed note is malformed, unsigned or wrongly signed."""

    code = "AUDIT_CHECKPOINT_INVALID"


class ReceiptError(AuditError):
    """A receipt is malformed, wrongly signed, or names another event."""

    code = "AUDIT_RECEIPT_INVALID"
