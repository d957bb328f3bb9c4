"""Verifying the whole audit log from its stored events, as ``credgate audit verify`` does.

Nothing stored is trusted on its own (the receipt-swap lesson of Rekor,
CVE-2022-36056): every leaf is recomputed from the event's canonical JSON,
every root from those leaves, and every checkpoint's signature is checked with
the audit public key. Each bad object is reported by index with a reason,
CloudTrail ``validate-logs`` style:

    modified        the event no longer hashes to its stored leaf hash, or the
                    event and its hash were changed together (its receipt
                    signature, made when it was logged, no longer matches)
    missing         no event at this index, though later events or checkpoints exist
    out of order    the event records another index than the one it is stored at
    inserted        an event nobody logged, squeezed in before events it displaced
    bad signature   a checkpoint not signed by the audit key
    inconsistent with trusted checkpoint
                    the log does not extend a checkpoint a witness kept earlier
                    (catches a rewrite even by a holder of the signing key)
    bad tree node   a stored hash of the tree's levels, which proofs are served
                    from, differs from the tree rebuilt from the events, is
                    missing, or lies beyond the latest checkpoint's tree
    projection mismatch
                    a search column or row (audit_events.officer_id, outcome,
                    kind, time_ms ..., an audit_event_agencies or audit_subjects
                    row) differs from what the signed entry says, is missing, or
                    is extra: searches would miss the event or wrongly find it
    malformed       a signed entry lacks a fact every event has (kind, time ...)

Search values are recomputed from each entry by the function the writer used to
store them (gateway.audit.projection), so every event kind is checked alike.
They are judged only for entries that are themselves intact: a modified or
displaced entry is reported as such, not once more column by column.

A checkpoint whose root the events do not reproduce narrows the search to the
events it added; their receipt signatures then name the changed entry. Only
those, and the events no checkpoint covers yet, need a signature check, which
keeps 100,000 events well under ten seconds.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from gateway.audit.errors import AuditError
from gateway.audit.merkle import (
    MerkleFrontier,
    consistency_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
)
from gateway.audit.projection import project, projection_mismatches
from gateway.audit.receipt import receipt_message
from gateway.audit.store import AuditStore, StoredEvent
from gateway.audit.tree_check import stored_node_mismatches
from gateway.audit.tree_store import TreeStore

__all__ = ["Problem", "VerificationReport", "verify_log"]

MODIFIED = "modified"
MISSING = "missing"
OUT_OF_ORDER = "out of order"
INSERTED = "inserted"
BAD_SIGNATURE = "bad signature"
INCONSISTENT = "inconsistent with trusted checkpoint"
PROJECTION = "projection mismatch"
MALFORMED = "malformed"
BAD_TREE_NODE = "bad tree node"


@dataclass(frozen=True)
class Problem:
    """One bad object of the log.

    Attributes:
        reason: One of the reasons in this module's docstring.
        detail: What exactly is wrong, for a human.
        index: The entry's index (the first one, for a range).
        last_index: The last index of a range of missing entries.
        checkpoint: The tree size of the checkpoint concerned, if any.
        node: ``(level, index)`` of the first stored tree node concerned, if any.
    """

    reason: str
    detail: str
    index: int | None = None
    last_index: int | None = None
    checkpoint: int | None = None
    node: tuple[int, int] | None = None

    def indices(self) -> range:
        """The entry indices this problem concerns."""
        if self.index is None:
            return range(0)
        return range(self.index, (self.last_index or self.index) + 1)

    def describe(self) -> str:
        """One line for the terminal."""
        if self.index is not None and self.last_index not in (None, self.index):
            where = f"entries {self.index}..{self.last_index}"
        elif self.index is not None:
            where = f"entry {self.index}"
        elif self.node is not None:
            where = f"tree level {self.node[0]} node {self.node[1]}"
        elif self.checkpoint is None:
            where = "log"
        else:
            where = f"checkpoint {self.checkpoint}"
        return f"{where}: {self.reason}: {self.detail}"


@dataclass
class VerificationReport:
    """The result of verifying the log."""

    total: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> int:
        """How many of the ``total`` entries have no problem."""
        bad = {i for problem in self.problems for i in problem.indices() if 0 <= i < self.total}
        return self.total - len(bad)

    @property
    def ok(self) -> bool:
        """Whether the log verified without any problem."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON (``credgate audit verify --json``)."""
        return {
            "ok": self.ok,
            "entries": self.total,
            "valid": self.valid,
            "checkpoints": self.checkpoints,
            "problems": [
                {k: v for k, v in problem.__dict__.items() if v is not None}
                for problem in self.problems
            ],
        }


@dataclass
class _Scan:
    leaves: list[bytes] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    signatures: list[bytes] = field(default_factory=list)
    claim_counts: dict[int, int] = field(default_factory=dict)
    intact: int = 0  # entries 0..intact-1 are all present
    roots: dict[int, bytes] = field(default_factory=dict)
    # Judged at the end, once it is known which entries are themselves bad.
    projection_problems: list[Problem] = field(default_factory=list)


def verify_log(
    store: AuditStore,
    verifier: NoteVerifier,
    receipt_key: Ed25519PublicKey,
    trusted_note: str | None = None,
) -> VerificationReport:
    """Verify every stored event and checkpoint.

    Args:
        store: The audit store.
        verifier: The checkpoint verifier key (name = origin).
        receipt_key: The audit public key, for receipt signatures.
        trusted_note: A signed checkpoint kept by a witness, if any.

    Returns:
        The report; ``report.ok`` is false on any problem.
    """
    report = VerificationReport()
    checkpoints = _checkpoints(store, verifier, report)
    scan = _scan(store, {c.size for c in checkpoints}, report)
    expected = max([len(scan.leaves), store.next_index(), *(c.size for c in checkpoints)])
    if expected > len(scan.leaves):
        _missing(report, len(scan.leaves), expected - 1, "the log ends early (truncated)")
    report.total = expected
    covered = _check_roots(checkpoints, scan, receipt_key, report)
    _check_signatures(scan, range(covered, len(scan.leaves)), receipt_key, report)
    if trusted_note is not None:
        _check_trusted(trusted_note, verifier, checkpoints, scan, report)
    _add_projection_problems(store, scan, report)
    _check_tree(store, scan, report)
    report.problems.sort(key=lambda p: (p.index is None, p.index or 0, p.checkpoint or 0))
    return report


def _checkpoints(
    store: AuditStore, verifier: NoteVerifier, report: VerificationReport
) -> list[Checkpoint]:
    good = []
    for stored in store.checkpoints():
        report.checkpoints += 1
        try:
            checkpoint = open_checkpoint(stored.note, verifier)
        except AuditError as error:
            report.problems.append(Problem(BAD_SIGNATURE, error.reason, checkpoint=stored.size))
            continue
        if checkpoint.size != stored.size:
            detail = f"the note is for size {checkpoint.size}"
            report.problems.append(Problem(BAD_SIGNATURE, detail, checkpoint=stored.size))
            continue
        good.append(checkpoint)
    return good


def _scan(store: AuditStore, sizes: set[int], report: VerificationReport) -> _Scan:
    scan = _Scan()
    frontier = MerkleFrontier()
    for stored in store.iter_stored_events():
        row = stored.row
        position = len(scan.leaves)
        if row.idx != position:
            if row.idx < position:
                continue  # cannot happen with a primary key; ignore defensively
            _missing(report, position, row.idx - 1, "no event stored at this index")
            scan.leaves.extend([b""] * (row.idx - position))
            scan.times.extend([0] * (row.idx - position))
            scan.signatures.extend([b""] * (row.idx - position))
            position = row.idx
        entry = bytes(row.entry)
        leaf = leaf_hash(entry)
        event = _parse(entry)
        claimed, time_ms = _claims(event)
        if not hmac.compare_digest(leaf, bytes(row.leaf_hash)):
            detail = "the event does not hash to its stored leaf hash"
            report.problems.append(Problem(MODIFIED, detail, index=position))
        elif claimed != position:
            detail = f"the event records index {claimed}"
            report.problems.append(Problem(OUT_OF_ORDER, detail, index=position))
        elif event is not None:
            _check_projection(event, stored, position, scan)
        scan.leaves.append(leaf)
        scan.times.append(time_ms)
        scan.signatures.append(bytes(row.receipt_signature))
        if claimed is not None:
            scan.claim_counts[claimed] = scan.claim_counts.get(claimed, 0) + 1
        if scan.intact == position:
            scan.intact = position + 1
            frontier.append(leaf)
            if frontier.size in sizes:
                scan.roots[frontier.size] = frontier.root()
    return scan


def _parse(entry: bytes) -> dict[str, Any] | None:
    try:
        event = orjson.loads(entry)
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def _claims(event: dict[str, Any] | None) -> tuple[int | None, int]:
    if event is None:
        return None, 0
    index, time_ms = event.get("index"), event.get("time")
    return (
        index if type(index) is int else None,
        time_ms if type(time_ms) is int and time_ms >= 0 else 0,
    )


def _check_projection(event: dict[str, Any], stored: StoredEvent, index: int, scan: _Scan) -> None:
    """Compare the stored search values with those the entry yields."""
    try:
        projection = project(event)
    except AuditError as error:
        scan.projection_problems.append(Problem(MALFORMED, error.reason, index=index))
        return
    row = stored.row._mapping
    for detail in projection_mismatches(
        projection, row, stored.agencies, stored.subjects, stored.measures
    ):
        scan.projection_problems.append(Problem(PROJECTION, detail, index=index))


def _add_projection_problems(store: AuditStore, scan: _Scan, report: VerificationReport) -> None:
    """Report search values of intact entries, and side rows of no stored event."""
    flagged = {i for problem in report.problems for i in problem.indices()}
    report.problems.extend(p for p in scan.projection_problems if p.index not in flagged)
    orphans: dict[int, list[str]] = {}
    for table, index in store.orphan_rows():
        if index not in flagged:  # a missing event is reported already
            orphans.setdefault(index, []).append(table)
    for index, tables in orphans.items():
        detail = f"{' and '.join(tables)} rows for an event that is not stored"
        report.problems.append(Problem(PROJECTION, detail, index=index))


def _missing(report: VerificationReport, first: int, last: int, detail: str) -> None:
    report.problems.append(Problem(MISSING, detail, index=first, last_index=last))


def _check_roots(
    checkpoints: list[Checkpoint],
    scan: _Scan,
    key: Ed25519PublicKey,
    report: VerificationReport,
) -> int:
    """Compare each checkpoint with the recomputed tree; returns the size verified."""
    checked = 0
    for checkpoint in checkpoints:
        root = scan.roots.get(checkpoint.size)
        if root is None:
            continue  # entries before this size are missing; already reported
        if not hmac.compare_digest(root, checkpoint.root_hash):
            added = range(checked, checkpoint.size)
            found = _check_signatures(scan, added, key, report)
            # Entries already named (modified, out of order ...) explain the mismatch.
            if not found and not any(
                i in added for problem in report.problems for i in problem.indices()
            ):
                detail = "the stored events do not reproduce this checkpoint's root"
                report.problems.append(Problem(MODIFIED, detail, checkpoint=checkpoint.size))
        checked = checkpoint.size
    return checked


def _check_signatures(
    scan: _Scan, indices: range, key: Ed25519PublicKey, report: VerificationReport
) -> bool:
    """Check receipt signatures over recomputed leaves; report the bad ones."""
    flagged = {i for problem in report.problems for i in problem.indices()}
    found = False
    for index in indices:
        if index in flagged or not scan.leaves[index]:
            continue
        message = receipt_message(index, scan.leaves[index], scan.times[index])
        try:
            key.verify(scan.signatures[index], message)
        except InvalidSignature:
            found = True
            if scan.claim_counts.get(index, 0) > 1:
                detail = "an unsigned event displaces the one logged at this index"
                report.problems.append(Problem(INSERTED, detail, index=index))
            else:
                detail = "the event and its stored hash were changed (receipt signature fails)"
                report.problems.append(Problem(MODIFIED, detail, index=index))
    return found


def _check_tree(store: AuditStore, scan: _Scan, report: VerificationReport) -> None:
    """Compare the stored tree levels with the tree rebuilt from the recomputed leaves."""
    # The integrator stores the levels with each checkpoint: they are the tree
    # of the latest stored checkpoint (whether or not its signature holds).
    latest = store.latest_checkpoint()
    size = latest.size if latest is not None else 0
    tree = TreeStore(store.engine)
    if not tree.exists():
        detail = "the tree's levels are not stored: run `credgate db upgrade`"
        report.problems.append(Problem(BAD_TREE_NODE, detail))
        return
    # A changed event changes the rebuilt nodes above it: it is reported itself.
    flagged = {i for problem in report.problems for i in problem.indices()}
    for mismatch in stored_node_mismatches(tree, scan.leaves[: scan.intact], size, flagged):
        node = (mismatch.level, mismatch.index)
        report.problems.append(Problem(BAD_TREE_NODE, mismatch.describe(), node=node))


def _check_trusted(
    note: str,
    verifier: NoteVerifier,
    checkpoints: list[Checkpoint],
    scan: _Scan,
    report: VerificationReport,
) -> None:
    try:
        trusted = open_checkpoint(note, verifier)
    except AuditError as error:
        report.problems.append(Problem(BAD_SIGNATURE, f"trusted checkpoint: {error.reason}"))
        return
    if trusted.size > scan.intact:
        detail = f"the log has {scan.intact} intact entries, fewer than the trusted {trusted.size}"
        report.problems.append(Problem(INCONSISTENT, detail, checkpoint=trusted.size))
        return
    if trusted.size == 0:
        return
    # A witness's check (RFC 9162 §2.1.4): the latest signed tree must extend the
    # trusted one, proven by a consistency proof computed from recomputed leaves.
    latest = max(
        (c for c in checkpoints if scan.roots.get(c.size) == c.root_hash),
        key=lambda c: c.size,
        default=None,
    )
    if latest is not None and latest.size >= trusted.size:
        size2, root2 = latest.size, latest.root_hash
    else:
        size2 = scan.intact
        root2 = root_from_leaf_hashes(scan.leaves[:size2])
    try:
        proof = consistency_proof(scan.leaves[:size2], trusted.size, size2)
        verify_consistency(trusted.size, size2, proof, trusted.root_hash, root2)
    except AuditError as error:
        detail = f"the log at size {size2} does not extend it: {error.reason}"
        report.problems.append(Problem(INCONSISTENT, detail, checkpoint=trusted.size))
