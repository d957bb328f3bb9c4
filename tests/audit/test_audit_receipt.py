"""Signed receipts, and why a verifier passes its own leaf hash."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.canonical import canonical_json
from gateway.audit.errors import ReceiptError
from gateway.audit.merkle import leaf_hash
from gateway.audit.receipt import AuditReceipt, receipt_message, sign_receipt, verify_receipt

KEY = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
PUBLIC = KEY.public_key()
EVENT = {"kind": "outcome", "requestId": "r-1", "fields": ["name"]}
OTHER_EVENT = {"kind": "outcome", "requestId": "r-2", "fields": ["name"]}
LEAF = leaf_hash(canonical_json(EVENT))
OTHER_LEAF = leaf_hash(canonical_json(OTHER_EVENT))
TIMESTAMP = 1_700_000_000_123


def _receipt() -> AuditReceipt:
    return sign_receipt(KEY, 41, LEAF, TIMESTAMP)


def test_receipt_verifies_after_a_json_round_trip() -> None:
    receipt = json.loads(json.dumps(_receipt()))
    assert set(receipt) == {"index", "leafHash", "timestamp", "signature"}
    verify_receipt(PUBLIC, receipt, 41, leaf_hash(canonical_json(EVENT)))


def test_signed_message_is_domain_separated() -> None:
    leaf_b64 = base64.b64encode(LEAF).decode()
    expected = f"credgate-audit-receipt/v1\n41\n{TIMESTAMP}\n{leaf_b64}\n".encode()
    assert receipt_message(41, LEAF, TIMESTAMP) == expected
    signature = base64.b64decode(_receipt()["signature"])
    PUBLIC.verify(signature, expected)


def test_verifier_index_must_match() -> None:
    with pytest.raises(ReceiptError, match="index 41, not 42"):
        verify_receipt(PUBLIC, _receipt(), 42, LEAF)


def test_tampered_index_is_rejected() -> None:
    receipt = _receipt()
    receipt["index"] = 42
    with pytest.raises(ReceiptError, match="signature does not verify"):
        verify_receipt(PUBLIC, receipt, 42, LEAF)


def test_tampered_timestamp_is_rejected() -> None:
    receipt = _receipt()
    receipt["timestamp"] += 1
    with pytest.raises(ReceiptError, match="signature does not verify"):
        verify_receipt(PUBLIC, receipt, 41, LEAF)


def test_receipt_of_another_event_is_rejected() -> None:
    # CVE-2022-36056: a genuine receipt attached to a different event.
    with pytest.raises(ReceiptError, match="another event"):
        verify_receipt(PUBLIC, _receipt(), 41, OTHER_LEAF)


def test_receipt_edited_to_name_another_event_is_rejected() -> None:
    receipt = _receipt()
    receipt["leafHash"] = base64.b64encode(OTHER_LEAF).decode()
    with pytest.raises(ReceiptError, match="signature does not verify"):
        verify_receipt(PUBLIC, receipt, 41, OTHER_LEAF)


def test_receipt_signed_by_another_key_is_rejected() -> None:
    forged = sign_receipt(Ed25519PrivateKey.from_private_bytes(b"\x08" * 32), 41, LEAF, TIMESTAMP)
    with pytest.raises(ReceiptError, match="signature does not verify"):
        verify_receipt(PUBLIC, forged, 41, LEAF)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("index", True),
        ("index", "41"),
        ("index", -1),
        ("timestamp", 1.5),
        ("timestamp", -1),
        ("leafHash", None),
        ("leafHash", "not base64"),
        ("signature", "AAAA"),
        ("signature", 7),
    ],
)
def test_malformed_fields_are_rejected(field: str, value: object) -> None:
    receipt: dict[str, object] = dict(_receipt())
    receipt[field] = value
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(PUBLIC, receipt, 41, LEAF)
    assert caught.value.code == "AUDIT_RECEIPT_INVALID"


def test_missing_and_extra_fields_are_rejected() -> None:
    receipt: dict[str, object] = dict(_receipt())
    del receipt["timestamp"]
    with pytest.raises(ReceiptError, match="fields"):
        verify_receipt(PUBLIC, receipt, 41, LEAF)
    receipt = {**_receipt(), "verified": True}
    with pytest.raises(ReceiptError, match="fields"):
        verify_receipt(PUBLIC, receipt, 41, LEAF)


@pytest.mark.parametrize(
    ("index", "leaf", "timestamp"), [(-1, LEAF, 0), (0, LEAF, -1), (0, b"short", 0)]
)
def test_signing_refuses_impossible_values(index: int, leaf: bytes, timestamp: int) -> None:
    with pytest.raises(ValueError, match=r"leaf hash|negative"):
        sign_receipt(KEY, index, leaf, timestamp)
