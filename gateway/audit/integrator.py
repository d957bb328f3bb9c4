"""The integrator: extends the Merkle tree with new events and signs checkpoints.

One integrator at a time, across processes: each round holds the
``audit_integrator`` lease row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; the
``BEGIN IMMEDIATE`` write lock on SQLite), so two gateways never sign two
different checkpoints of the same size. Before signing, the round checks that
the tree it extends is the one the previous checkpoint signed: the tree's
stored levels (``gateway.audit.tree_store``) must reproduce that checkpoint's
root, and the checkpoint's own signature must verify. Appending leaves to the
frontier read from those levels only ever extends the tree, so the new
checkpoint is consistent with the previous one by construction (RFC 9162
§2.1.4), the approach of Trillian Tessera. Every leaf is recomputed from its
event, never taken from the stored hash. The perfect subtrees the new leaves
complete (about one per leaf) are stored in the checkpoint's own transaction,
so the stored levels always cover exactly the latest checkpoint's tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time

import orjson
import structlog
from sqlalchemy.engine import Connection

from gateway.audit.checkpoint import Checkpoint, NoteSigner, open_checkpoint
from gateway.audit.errors import AuditError, TreeStateError
from gateway.audit.merkle import MerkleFrontier, leaf_hash
from gateway.audit.store import AuditStore, StoredCheckpoint
from gateway.audit.tree_store import TreeStore
from gateway.db import run_sync

__all__ = ["Integrator", "IntegrityFailure"]

log = structlog.get_logger("gateway.audit")

#: Most leaves added per round, so a round's transaction stays short.
MAX_LEAVES_PER_ROUND = 50_000


class IntegrityFailure(AuditError):
    """The stored log does not extend the last signed checkpoint; nothing is signed."""

    code = "AUDIT_INTEGRITY_FAILURE"


class Integrator:
    """Signs a checkpoint covering new events, at most ``interval_s`` after they arrive.

    Rounds are paced: the first new event after a quiet spell is covered at once,
    then at most one round runs per interval however often commits wake it.

    Args:
        store: The audit store.
        signer: Signs checkpoints with the audit key; its name is the log's origin.
        interval_s: Longest wait before new events (from any process) are covered.
    """

    def __init__(self, store: AuditStore, signer: NoteSigner, interval_s: float = 0.5) -> None:
        self._store = store
        self._tree = TreeStore(store.engine)
        self._signer = signer
        self.interval_s = interval_s
        self._wake: asyncio.Event | None = None
        self._halt = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.last_error: str | None = None

    def integrate_once(self, *, wait: bool = False) -> bool:
        """Cover every new event with a signed checkpoint (blocking).

        Args:
            wait: Wait for another integrator's round instead of skipping.

        Returns:
            Whether this process held the integrator lease.

        Raises:
            IntegrityFailure: If the stored events do not extend the last checkpoint.
            AuditError: If the last checkpoint cannot be read or verified.
        """
        held = False
        while True:
            added: list[int] = []

            def extend(connection: Connection, added: list[int] = added) -> StoredCheckpoint | None:
                checkpoint = self._extend(connection)
                if checkpoint is not None:
                    added.append(checkpoint.size)
                return checkpoint

            held = self._store.integrate(extend, wait=wait) or held
            # A round is capped; loop until the tree covers every event.
            if not added or added[0] % MAX_LEAVES_PER_ROUND:
                return held

    def _extend(self, connection: Connection) -> StoredCheckpoint | None:
        frontier = self._restore(self._store.latest_checkpoint(connection), connection)
        rows = AuditStore.entries_from(connection, frontier.size, MAX_LEAVES_PER_ROUND)
        if not rows:
            return None
        leaves = []
        for position, row in enumerate(rows, start=frontier.size):
            if row.idx != position:
                raise IntegrityFailure(f"event {position} is missing (found {row.idx})")
            leaf = leaf_hash(bytes(row.entry))
            if not hmac.compare_digest(leaf, bytes(row.leaf_hash)):
                raise IntegrityFailure(f"event {row.idx} does not match its stored leaf hash")
            leaves.append(leaf)
        # Stored with the checkpoint below, in this transaction: both or neither.
        TreeStore.insert(connection, frontier.grow(leaves))
        root = frontier.root()
        note = self._signer.sign(Checkpoint(self._signer.name, frontier.size, root))
        return StoredCheckpoint(
            size=frontier.size,
            root_hash=root,
            note=note,
            frontier=orjson.dumps(frontier.to_dict()).decode("ascii"),
            created_ms=time.time_ns() // 1_000_000,
        )

    def _restore(self, latest: StoredCheckpoint | None, connection: Connection) -> MerkleFrontier:
        if latest is None:
            return MerkleFrontier()
        signed = open_checkpoint(latest.note, self._signer.verifier)
        if signed.size != latest.size:
            raise IntegrityFailure(f"checkpoint {latest.size} signs size {signed.size}")
        try:
            frontier = self._tree.frontier(signed.size, connection)
        except TreeStateError as error:
            raise IntegrityFailure(
                f"stored tree levels lack checkpoint {signed.size}'s subtrees: {error.reason}"
            ) from error
        # The tree we extend must be exactly the one last signed (consistency).
        if not hmac.compare_digest(frontier.root(), signed.root_hash):
            raise IntegrityFailure(f"stored tree levels do not reproduce checkpoint {signed.size}")
        return frontier

    def notify(self) -> None:
        """New events were committed: integrate soon."""
        if self._wake is not None:
            self._wake.set()

    async def start(self) -> None:
        """Start the background rounds in the running event loop."""
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._wake = asyncio.Event()
        self._halt = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._run(self._wake), name="audit-integrator"
        )

    async def stop(self) -> None:
        """Finish the current round and stop."""
        if self._task is None:
            return
        self._stopping = True
        self._halt.set()
        self.notify()
        await self._task
        self._task = None

    async def _run(self, wake: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        last_round = -self.interval_s
        while not self._stopping:
            # Bounded wait: events committed by other processes wake nobody here.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.interval_s)
            # At most one round per interval: a round holds the write lock and
            # fsyncs, and one per commit would make every request's next audit
            # append queue behind it. Events wait at most one interval anyway.
            pause = last_round + self.interval_s - loop.time()
            if pause > 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._halt.wait(), pause)
            wake.clear()
            last_round = loop.time()
            try:
                await run_sync(self.integrate_once)
            except Exception as error:
                self.last_error = f"{type(error).__name__}: {error}"
                log.error("audit_integration_failed", error=self.last_error)
            else:
                self.last_error = None
