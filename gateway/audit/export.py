"""Exporting events with everything needed to verify them offline.

``credgate audit export`` writes JSON lines: first the signed checkpoint the
proofs lead to (with the verifier key), then one line per event::

    {"type": "checkpoint", "origin": ..., "vkey": ..., "note": ...}
    {"type": "event", "index": 7, "entry": "<canonical JSON>", "receipt": {...},
     "treeSize": 42, "inclusionProof": ["<base64>", ...]}

``entry`` is the exact leaf data as text, so a verifier hashes the very bytes
the log hashed. :func:`verify_export` is the offline check: signature of the
checkpoint, each leaf recomputed from its entry, each inclusion proof and each
receipt against that recomputed leaf. Subjects appear only as blind indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

import orjson

from gateway.audit.canonical import decode_base64, encode_base64
from gateway.audit.checkpoint import NoteVerifier, open_checkpoint
from gateway.audit.errors import AuditError, ProofError
from gateway.audit.merkle import leaf_hash, verify_inclusion
from gateway.audit.receipt import verify_receipt
from gateway.audit.store import AuditStore, EventFilter
from gateway.audit.tree_store import TreeStore

__all__ = ["export_events", "verify_export"]

_PAGE = 1000


def export_events(
    store: AuditStore,
    verifier: NoteVerifier,
    since_ms: int | None,
    until_ms: int | None,
    out: TextIO,
) -> int:
    """Write the events logged in ``[since_ms, until_ms)`` with proofs, as JSON lines.

    Args:
        store: The audit store.
        verifier: The checkpoint verifier key.
        since_ms: Earliest event time (Unix ms), or ``None``.
        until_ms: Time after the last event (Unix ms), or ``None``.
        out: Where to write.

    Returns:
        How many events were written.
    """
    latest = store.latest_checkpoint()
    size = latest.size if latest else 0
    out.write(
        _line(
            {
                "type": "checkpoint",
                "origin": verifier.name,
                "vkey": verifier.vkey,
                "note": latest.note if latest else None,
            }
        )
    )
    tree = TreeStore(store.engine)
    written, after = 0, -1
    where = EventFilter(since_ms=since_ms, until_ms=until_ms)
    while True:
        rows = store.search(where, after, _PAGE)
        # Each page's proofs from the stored levels, read together.
        proofs = tree.inclusion_proofs((int(r.idx) for r in rows if int(r.idx) < size), size)
        for row in rows:
            out.write(_line(_event_line(row, size, proofs.get(int(row.idx)))))
        written += len(rows)
        if len(rows) < _PAGE:
            return written
        after = int(rows[-1].idx)


def _event_line(row: Any, size: int, proof: list[bytes] | None) -> dict[str, Any]:
    index, leaf = int(row.idx), bytes(row.leaf_hash)
    covered = proof is not None
    return {
        "type": "event",
        "index": index,
        "entry": bytes(row.entry).decode("utf-8"),
        "receipt": {
            "index": index,
            "leafHash": encode_base64(leaf),
            "timestamp": int(row.time_ms),
            "signature": encode_base64(bytes(row.receipt_signature)),
        },
        "treeSize": size if covered else None,
        "inclusionProof": [encode_base64(h) for h in proof] if proof is not None else None,
    }


def _line(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode("utf-8") + "\n"


def verify_export(lines: Iterable[str], verifier: NoteVerifier) -> int:
    """Verify an export offline, trusting nothing but the verifier key.

    Args:
        lines: The export's JSON lines.
        verifier: The audit log's checkpoint verifier key.

    Returns:
        How many events were proven included in the signed checkpoint.

    Raises:
        AuditError: On the first line that does not verify (a ``ProofError``,
            ``CheckpointError`` or ``ReceiptError`` naming the index).
    """
    records = iter(orjson.loads(line) for line in lines if line.strip())
    header = next(records, None)
    if not isinstance(header, dict) or header.get("type") != "checkpoint":
        raise ProofError("the export does not start with its checkpoint")
    checkpoint = open_checkpoint(header["note"], verifier) if header.get("note") else None
    proven = 0
    for record in records:
        index = record["index"]
        leaf = leaf_hash(record["entry"].encode("utf-8"))
        try:
            verify_receipt(verifier.public_key, record["receipt"], index, leaf)
            if record.get("inclusionProof") is None:
                continue
            if checkpoint is None or record["treeSize"] != checkpoint.size:
                raise ProofError("the proof is not for the export's checkpoint")
            proof = [_hash(h) for h in record["inclusionProof"]]
            verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root_hash)
        except AuditError as error:
            raise type(error)(f"entry {index}: {error.reason}") from error
        proven += 1
    return proven


def _hash(text: str) -> bytes:
    try:
        return decode_base64(text)
    except ValueError as error:
        raise ProofError(f"proof element is not base64: {error}") from error
