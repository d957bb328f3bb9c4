"""Signed receipts: the gateway's promise that an event was logged.

Every response carries a receipt in ``extensions.audit`` as soon as its event
is durable, long before a checkpoint covers it. The receipt is an Ed25519
signature by the audit key over a domain-separated message::

    credgate-audit-receipt/v1\\n<index>\\n<timestamp ms>\\n<base64 leaf hash>\\n

A receipt alone proves nothing about an event's content. A verifier MUST
rebuild the leaf hash from the event it holds (canonical JSON, then
:func:`~gateway.audit.merkle.leaf_hash`) and pass that to
:func:`verify_receipt`, never the hash printed in the receipt: Rekor once
accepted a valid receipt attached to a different entry (CVE-2022-36056).
Inclusion in the log is proven later by an RFC 9162 inclusion proof against a
signed checkpoint.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import TypedDict

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.audit.canonical import decode_base64, encode_base64
from gateway.audit.errors import ReceiptError
from gateway.audit.merkle import HASH_SIZE

__all__ = ["RECEIPT_DOMAIN", "AuditReceipt", "receipt_message", "sign_receipt", "verify_receipt"]

#: Prefix of every signed receipt message, separating receipts from the audit
#: key's other use: a checkpoint's third line is a 44-character base64 root
#: hash, never a decimal timestamp, so no checkpoint text is a receipt message.
RECEIPT_DOMAIN = b"credgate-audit-receipt/v1\n"

_SIGNATURE_SIZE = 64
_FIELDS = frozenset({"index", "leafHash", "timestamp", "signature"})


class AuditReceipt(TypedDict):
    """A receipt as it appears in GraphQL ``extensions.audit``.

    Attributes:
        index: The event's leaf index in the log.
        leafHash: Base64 of the event's 32-byte leaf hash.
        timestamp: When the event became durable, in Unix milliseconds.
        signature: Base64 of the Ed25519 signature of :func:`receipt_message`.
    """

    index: int
    leafHash: str  # camelCase: the JSON field name clients read
    timestamp: int
    signature: str


def receipt_message(index: int, leaf_hash: bytes, timestamp_ms: int) -> bytes:
    """Build the exact bytes a receipt signature covers.

    Args:
        index: The event's leaf index.
        leaf_hash: The event's 32-byte leaf hash.
        timestamp_ms: Unix time in milliseconds.

    Returns:
        The domain-separated message.
    """
    fields = f"{index}\n{timestamp_ms}\n{encode_base64(leaf_hash)}\n"
    return RECEIPT_DOMAIN + fields.encode("ascii")


def sign_receipt(
    private_key: Ed25519PrivateKey, index: int, leaf_hash: bytes, timestamp_ms: int
) -> AuditReceipt:
    """Sign a receipt for a durable event.

    Args:
        private_key: The Ed25519 audit key.
        index: The event's leaf index.
        leaf_hash: The event's 32-byte leaf hash.
        timestamp_ms: Unix time in milliseconds.

    Returns:
        The receipt, ready to serialize as JSON.

    Raises:
        ValueError: If the index or timestamp is negative or the hash is not 32 bytes.
    """
    if index < 0 or timestamp_ms < 0:
        raise ValueError("receipt index and timestamp must not be negative")
    if len(leaf_hash) != HASH_SIZE:
        raise ValueError(f"leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
    signature = private_key.sign(receipt_message(index, leaf_hash, timestamp_ms))
    return {
        "index": index,
        "leafHash": encode_base64(leaf_hash),
        "timestamp": timestamp_ms,
        "signature": encode_base64(signature),
    }


def verify_receipt(
    public_key: Ed25519PublicKey, receipt: Mapping[str, object], index: int, leaf_hash: bytes
) -> None:
    """Check that a receipt was signed by the audit key for this very event.

    The signature is checked over a message rebuilt from the caller's
    ``index`` and ``leaf_hash``, so a receipt lifted from another event fails
    even if its own fields were edited to match.

    Args:
        public_key: The audit key's public half.
        receipt: The receipt as received; treated as untrusted.
        index: The index the event is claimed to have.
        leaf_hash: The leaf hash the verifier recomputed from the event.

    Raises:
        ReceiptError: If the receipt is malformed, names another index or
            leaf, or its signature does not verify.
    """
    if set(receipt) != _FIELDS:
        raise ReceiptError(f"receipt fields are {sorted(receipt)}, not {sorted(_FIELDS)}")
    if _integer_field(receipt, "index") != index:
        raise ReceiptError(f"receipt is for index {receipt['index']}, not {index}")
    # CVE-2022-36056: the receipt's own hash is compared, never trusted.
    if not hmac.compare_digest(_bytes_field(receipt, "leafHash"), leaf_hash):
        raise ReceiptError("receipt is for another event: leaf hashes differ")
    timestamp = _integer_field(receipt, "timestamp")
    signature = _bytes_field(receipt, "signature")
    if len(signature) != _SIGNATURE_SIZE:
        raise ReceiptError("receipt signature has the wrong length")
    try:
        public_key.verify(signature, receipt_message(index, leaf_hash, timestamp))
    except InvalidSignature as exc:
        raise ReceiptError("receipt signature does not verify") from exc


def _integer_field(receipt: Mapping[str, object], name: str) -> int:
    value = receipt[name]
    # bool is an int subclass; JSON true must not pass for 1.
    if type(value) is not int or value < 0:
        raise ReceiptError(f"receipt {name} is not a non-negative integer")
    return value


def _bytes_field(receipt: Mapping[str, object], name: str) -> bytes:
    value = receipt[name]
    if not isinstance(value, str):
        raise ReceiptError(f"receipt {name} is not a string")
    try:
        return decode_base64(value)
    except ValueError as exc:
        raise ReceiptError(f"receipt {name} is not base64: {exc}") from exc
