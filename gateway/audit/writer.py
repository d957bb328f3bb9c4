"""Group commit: the events of concurrent requests share one durable transaction.

Each request hands its drafts to :class:`GroupCommitWriter` and waits. One task
drains everything queued into a single batch, seals it (indices, canonical
JSON, leaf hashes, receipts, subject ciphertext) inside the transaction that
holds the coordinator row, and commits once. A request's receipt is returned
only after that commit: the response is released only once its event is
durable (DESIGN.md §7). If the commit fails, every request in the batch gets
:class:`AuditUnavailable` and, fail closed, no data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.canonical import canonical_json, encode_base64
from gateway.audit.events import EventDraft
from gateway.audit.merkle import leaf_hash
from gateway.audit.receipt import AuditReceipt, receipt_message
from gateway.audit.store import AgencyValues, AuditStore, EventValues, SealedBatch, SubjectValues
from gateway.audit.subjects import SubjectCipher
from gateway.db import run_sync
from gateway.errors import ServiceUnavailable

__all__ = ["AppendedEvent", "AuditUnavailable", "EventSealer", "GroupCommitWriter"]

log = structlog.get_logger("gateway.audit")

#: Most events in one transaction; bounds its lock time and memory.
MAX_BATCH = 1000


class AuditUnavailable(ServiceUnavailable):
    """The audit log cannot record the request, so no data is released (fail closed)."""

    code = "AUDIT_UNAVAILABLE"

    def __init__(self) -> None:
        super().__init__("The audit log is unavailable; no data was released.")


@dataclass(frozen=True)
class AppendedEvent:
    """A durable event: its index, leaf hash and signed receipt."""

    index: int
    leaf_hash: bytes
    receipt: AuditReceipt


class EventSealer:
    """Turns drafts into rows once their indices are known.

    Args:
        signing_key: The Ed25519 audit key (signs receipts).
        cipher: Seals subjects.
    """

    def __init__(self, signing_key: Ed25519PrivateKey, cipher: SubjectCipher) -> None:
        self._key = signing_key
        self._cipher = cipher

    def seal(self, drafts: Sequence[EventDraft], start: int, time_ms: int) -> SealedBatch:
        """Build the rows of a batch whose first index is ``start``."""
        batch = SealedBatch(events=[])
        for offset, draft in enumerate(drafts):
            self._seal_one(batch, draft, start + offset, time_ms)
        return batch

    def _seal_one(self, batch: SealedBatch, draft: EventDraft, index: int, time_ms: int) -> None:
        sealed = [
            self._cipher.seal(subject, index, position)
            for position, subject in enumerate(draft.subjects)
        ]
        entry = canonical_json(draft.render(index, time_ms, [s.commitment() for s in sealed]))
        leaf = leaf_hash(entry)
        body = draft.body
        principal = body.get("principal") or {}
        authority = body.get("authority") or {}
        batch.events.append(
            EventValues(
                idx=index,
                kind=draft.kind,
                time_ms=time_ms,
                request_id=body["requestId"][:64],
                principal_subject=principal.get("subject"),
                client_id=principal.get("clientId"),
                role=principal.get("role"),
                court_id=authority.get("courtId") or principal.get("courtId"),
                officer_id=principal.get("officerId"),
                case_number=authority.get("caseNumber"),
                outcome=body["outcome"],
                entry=entry,
                leaf_hash=leaf,
                receipt_signature=self._key.sign(receipt_message(index, leaf, time_ms)),
            )
        )
        batch.agencies.extend(AgencyValues(index, agency) for agency in draft.agency_ids)
        batch.subjects.extend(
            SubjectValues(index, position, s.blind_index, s.key_id, s.ciphertext)
            for position, s in enumerate(sealed)
        )


def _appended(row: EventValues) -> AppendedEvent:
    receipt: AuditReceipt = {
        "index": row.idx,
        "leafHash": encode_base64(row.leaf_hash),
        "timestamp": row.time_ms,
        "signature": encode_base64(row.receipt_signature),
    }
    return AppendedEvent(row.idx, row.leaf_hash, receipt)


def commit_batch(
    store: AuditStore, sealer: EventSealer, drafts: Sequence[EventDraft]
) -> list[AppendedEvent]:
    """Append drafts in one transaction (blocking); returns them in order.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: If the database refuses the batch.
    """

    def seal(start: int) -> SealedBatch:
        # The time is read under the coordinator lock, so time order is index order.
        return sealer.seal(drafts, start, time.time_ns() // 1_000_000)

    batch = store.append(seal, len(drafts))
    return [_appended(row) for row in batch.events]


_Pending = tuple[list[EventDraft], "asyncio.Future[list[AppendedEvent]]"]


class GroupCommitWriter:
    """Batches concurrent appends into shared transactions.

    Args:
        commit: Appends drafts durably (blocking; runs in a worker thread).
        on_commit: Called after each successful commit (wakes the integrator).
    """

    def __init__(
        self,
        commit: Callable[[Sequence[EventDraft]], list[AppendedEvent]],
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._commit = commit
        self._on_commit = on_commit
        self._queue: list[_Pending] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self.last_error: str | None = None

    async def append(self, drafts: list[EventDraft]) -> list[AppendedEvent]:
        """Make drafts durable, sharing a transaction with concurrent callers.

        Raises:
            AuditUnavailable: If the batch could not be committed.
        """
        loop = asyncio.get_running_loop()
        self._ensure_running(loop)
        future: asyncio.Future[list[AppendedEvent]] = loop.create_future()
        self._queue.append((drafts, future))
        self._wake_up()
        return await future

    def _wake_up(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _ensure_running(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not loop or self._task is None or self._task.done():
            if self._loop is not loop:
                self._queue = []
            self._loop = loop
            self._stopping = False
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(self._wake), name="audit-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop the writer task."""
        task = self._task
        if task is None or task.done() or self._loop is not asyncio.get_running_loop():
            return
        self._stopping = True
        self._wake_up()
        await task

    async def _run(self, wake: asyncio.Event) -> None:
        while True:
            await wake.wait()
            wake.clear()
            while self._queue:
                await self._commit_next()
            if self._stopping:
                return

    async def _commit_next(self) -> None:
        taken: list[_Pending] = []
        count = 0
        while self._queue and (not taken or count + len(self._queue[0][0]) <= MAX_BATCH):
            item = self._queue.pop(0)
            taken.append(item)
            count += len(item[0])
        drafts = [draft for pending_drafts, _ in taken for draft in pending_drafts]
        try:
            results = await run_sync(self._commit, drafts)
        except Exception as error:
            # Fail closed: every waiting request learns that its event is not durable.
            self.last_error = type(error).__name__
            log.error("audit_append_failed", error=type(error).__name__, events=len(drafts))
            for _, future in taken:
                if not future.done():
                    future.set_exception(AuditUnavailable())
            return
        self.last_error = None
        self._on_commit()
        position = 0
        for pending_drafts, future in taken:
            if not future.done():
                future.set_result(results[position : position + len(pending_drafts)])
            position += len(pending_drafts)
