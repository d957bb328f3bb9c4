"""The audit error hierarchy: stable codes that reports and clients rely on."""

from __future__ import annotations

import pytest

from gateway.audit.errors import (
    AuditError,
    CanonicalJSONError,
    CheckpointError,
    ProofError,
    ReceiptError,
    TreeStateError,
)


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        (AuditError, "AUDIT_ERROR"),
        (CanonicalJSONError, "AUDIT_CANONICAL_JSON_INVALID"),
        (ProofError, "AUDIT_PROOF_INVALID"),
        (TreeStateError, "AUDIT_TREE_STATE_INVALID"),
        (CheckpointError, "AUDIT_CHECKPOINT_INVALID"),
        (ReceiptError, "AUDIT_RECEIPT_INVALID"),
    ],
)
def test_each_error_has_a_stable_code_and_reason(error_type: type[AuditError], code: str) -> None:
    error = error_type("what went wrong")
    assert isinstance(error, AuditError)
    assert error.code == code
    assert error.reason == str(error) == "what went wrong"
    assert repr(error) == f"{error_type.__name__}(code={code!r}, reason='what went wrong')"
