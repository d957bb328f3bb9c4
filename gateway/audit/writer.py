"""Group commit: the events of concurrent requests share one durable transaction.

Each request hands its drafts to :class:`GroupCommitWriter` and waits. A
committer thread drains everything queued into a single batch, seals it
(indices, canonical JSON, leaf hashes, receipts, subject ciphertext) inside the
transaction that holds the coordinator row, and commits once. A request's
receipt is returned only after that commit: the response is released only once
its event is durable (DESIGN.md §7). If the commit fails, every request in the
batch gets :class:`AuditUnavailable` and, fail closed, no data.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.canonical import canonical_json, encode_base64
from gateway.audit.events import EventDraft
from gateway.audit.merkle import leaf_hash
from gateway.audit.projection import project
from gateway.audit.receipt import AuditReceipt, receipt_message
from gateway.audit.store import (
    AgencyValues,
    EventValues,
    MeasureValues,
    SealedBatch,
    SubjectValues,
)
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
        event = draft.render(index, time_ms, [s.commitment() for s in sealed])
        entry = canonical_json(event)
        leaf = leaf_hash(entry)
        # Every search value comes from the event itself, by the same function
        # `credgate audit verify` recomputes them with.
        projection = project(event)
        batch.events.append(
            EventValues(
                idx=index,
                **projection.columns(),
                entry=entry,
                leaf_hash=leaf,
                receipt_signature=self._key.sign(receipt_message(index, leaf, time_ms)),
            )
        )
        batch.agencies.extend(AgencyValues(index, agency) for agency in projection.agencies)
        batch.measures.extend(MeasureValues(index, measure) for measure in projection.measures)
        batch.subjects.extend(
            SubjectValues(
                index,
                s.position,
                s.blind_index,
                sealed[s.position].key_id,
                sealed[s.position].ciphertext,
            )
            for s in projection.subjects
        )


def _appended(row: EventValues) -> AppendedEvent:
    receipt: AuditReceipt = {
        "index": row.idx,
        "leafHash": encode_base64(row.leaf_hash),
        "timestamp": row.time_ms,
        "signature": encode_base64(row.receipt_signature),
    }
    return AppendedEvent(row.idx, row.leaf_hash, receipt)


class Appender(Protocol):
    """Where a batch is appended: :class:`AuditStore` or its held connection."""

    def append(self, seal: Callable[[int], SealedBatch], count: int) -> SealedBatch: ...


def commit_batch(
    store: Appender, sealer: EventSealer, drafts: Sequence[EventDraft]
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


@dataclass(frozen=True)
class _Pending:
    """One caller's drafts, and where to deliver their receipts."""

    drafts: list[EventDraft]
    future: asyncio.Future[list[AppendedEvent]]
    loop: asyncio.AbstractEventLoop


def _resolve(future: asyncio.Future[list[AppendedEvent]], events: list[AppendedEvent]) -> None:
    if not future.done():  # the caller may have been cancelled meanwhile
        future.set_result(events)


def _fail(future: asyncio.Future[list[AppendedEvent]]) -> None:
    if not future.done():
        future.set_exception(AuditUnavailable())


def _deliver(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    with contextlib.suppress(RuntimeError):  # the caller's loop is closed: nobody waits
        loop.call_soon_threadsafe(callback, *args)


class GroupCommitWriter:
    """Batches concurrent appends into shared transactions.

    A committer thread of its own takes everything queued, commits it in one
    transaction and hands each caller its receipts, then takes what queued
    meanwhile. It never waits for the event loop between batches: on a busy loop,
    a writer task would wait a loop iteration (several milliseconds under load)
    to start each batch and another to learn it was done, and every request waits
    for two appends.

    Under concurrency a batch waits a little for more (``commit_delay_s``, as
    PostgreSQL's ``commit_delay`` with ``commit_siblings``): only while at least
    ``COMMIT_SIBLINGS`` requests other than the batch's own are in flight (the
    ``in_flight`` count), and never past the moment every one of them is in the
    batch. A lone request never waits. Each commit costs the committer about as
    much as the events in it (an fsync, the pages of six indexes), so fewer,
    larger commits leave more CPU to the requests.

    Args:
        commit: Appends drafts durably (blocking; runs in the committer thread).
        on_commit: Called on the callers' event loop after each successful commit
            (wakes the integrator).
        in_flight: How many requests are under way that will append (read from
            the committer thread; an estimate is enough).
        commit_delay_s: How long a batch may wait for more under concurrency.
    """

    #: Requests in flight beyond the batch's own before a batch waits for more.
    COMMIT_SIBLINGS = 4

    def __init__(
        self,
        commit: Callable[[Sequence[EventDraft]], list[AppendedEvent]],
        on_commit: Callable[[], None] = lambda: None,
        *,
        in_flight: Callable[[], int] = lambda: 0,
        commit_delay_s: float = 0.0,
    ) -> None:
        self._commit = commit
        self._on_commit = on_commit
        self._in_flight = in_flight
        self._commit_delay_s = commit_delay_s
        # A queue per committer thread: a thread being stopped drains its own queue
        # while appends after stop() start a new thread with a fresh one.
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.last_error: str | None = None

    async def append(self, drafts: list[EventDraft]) -> list[AppendedEvent]:
        """Make drafts durable, sharing a transaction with concurrent callers.

        Raises:
            AuditUnavailable: If the batch could not be committed.
        """
        return await self.submit(drafts)

    def submit(self, drafts: list[EventDraft]) -> asyncio.Future[list[AppendedEvent]]:
        """Queue drafts for the next commit now; the future completes as :meth:`append`.

        Call it from the event loop. Unlike :meth:`append`, the drafts are queued
        before the caller's next ``await``, so the commit runs while the caller
        does other work.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[AppendedEvent]] = loop.create_future()
        self._running_queue().put(_Pending(drafts, future, loop))
        return future

    def _running_queue(self) -> queue.SimpleQueue[_Pending | None]:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._queue = queue.SimpleQueue()
                # A daemon: a process that exits without stop() must not hang on it.
                self._thread = threading.Thread(
                    target=self._run, args=(self._queue,), name="audit-writer", daemon=True
                )
                self._thread.start()
            return self._queue

    async def stop(self) -> None:
        """Commit what is queued, then stop the committer thread."""
        with self._start_lock:
            thread, self._thread = self._thread, None
            pending = self._queue
        if thread is None or not thread.is_alive():
            return
        pending.put(None)
        await run_sync(thread.join)

    def _run(self, pending: queue.SimpleQueue[_Pending | None]) -> None:
        carried: _Pending | None = None
        while True:
            first = carried if carried is not None else pending.get()
            carried = None
            if first is None:
                return
            taken, count, stopping = [first], len(first.drafts), False
            deadline = self._deadline()
            while True:
                try:
                    item = self._next(pending, taken, deadline)
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                if count + len(item.drafts) > MAX_BATCH:
                    carried = item
                    break
                taken.append(item)
                count += len(item.drafts)
            self._commit_batch(taken)
            if stopping:
                return

    def _deadline(self) -> float | None:
        """Until when the batch being gathered may wait for more, if at all."""
        if self._commit_delay_s <= 0 or self._in_flight() <= self.COMMIT_SIBLINGS:
            return None
        return time.monotonic() + self._commit_delay_s

    def _next(
        self,
        pending: queue.SimpleQueue[_Pending | None],
        taken: list[_Pending],
        deadline: float | None,
    ) -> _Pending | None:
        """The next queued item, waiting until ``deadline`` while others may come.

        Raises:
            queue.Empty: Nothing more for this batch.
        """
        if deadline is None or len(taken) >= self._in_flight():
            return pending.get_nowait()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return pending.get_nowait()
        return pending.get(timeout=remaining)

    def _commit_batch(self, taken: list[_Pending]) -> None:
        drafts = [draft for pending in taken for draft in pending.drafts]
        try:
            results = self._commit(drafts)
        except Exception as error:
            # Fail closed: every waiting request learns that its event is not durable.
            self.last_error = type(error).__name__
            log.error("audit_append_failed", error=type(error).__name__, events=len(drafts))
            for pending in taken:
                _deliver(pending.loop, _fail, pending.future)
            return
        self.last_error = None
        position = 0
        for pending in taken:
            end = position + len(pending.drafts)
            _deliver(pending.loop, _resolve, pending.future, results[position:end])
            position = end
        _deliver(taken[0].loop, self._on_commit)
