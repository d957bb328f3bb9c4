"""The expiry sweep: entries whose term is over leave the list by themselves.

Art. 10 of the 2017 provisions: once the term is over, the court deletes the
entry within three working days. No clerk has to remember it: every gateway
runs this sweep at start-up and then periodically (``[credit_list]
expiry_sweep_s``, an hour by default), and each expired entry is removed as of
its expiry date, with a ``REMOVED`` event on the change feed (kind
``EXPIRED``) so that agencies lift their measures, and an audit event recorded
as a system act of the entry's court.

Several gateways share one database: a lease row (one conditional update)
lets one sweep at a time, and the removal itself only changes an entry still in
force, so each expiry is recorded once. The audit event is appended before
the removal commits: a crash in between leaves an audit event for a removal
the next sweep performs (and records again), never a removal without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import uuid

import structlog
from sqlalchemy.engine import Engine

from gateway.access_record import AccessRecord
from gateway.audit.events import RequestFacts, outcome_draft
from gateway.audit.log import AuditLog
from gateway.auth.principal import Principal, Role
from gateway.credit_list import store
from gateway.credit_list.entries import ListEntry
from gateway.credit_list.service import CreditList
from gateway.db import run_sync

log = structlog.get_logger("gateway.credit_list.expiry")

#: The operation the audit log records for an automatic removal.
EXPIRY_OPERATION = "dishonestEntryExpired"
DEFAULT_INTERVAL_S = 3600.0
_BATCH = 500
_LEASE = datetime.timedelta(minutes=10)


def system_principal(court_id: str) -> Principal:
    """The gateway acting for a court by operation of law (no token behind it)."""
    return Principal(
        subject="system:credit-list-expiry",
        client_id="credgate-system",
        role=Role.ADMIN,
        scopes=frozenset(),
        issuer="credgate",
        token_id="",
        court_id=court_id,
    )


class ExpirySweeper:
    """Removes expired entries, now and every ``interval_s`` seconds.

    Args:
        credit_list: the list (its calendar decides what has expired).
        engine: the gateway database, for the lease.
        audit: the audit log the removals are recorded in.
        interval_s: seconds between sweeps.
    """

    def __init__(
        self,
        credit_list: CreditList,
        engine: Engine,
        audit: AuditLog | None,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self.credit_list = credit_list
        self.engine = engine
        self.audit = audit
        self.interval_s = interval_s
        self.holder = uuid.uuid4().hex
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> list[int]:
        """One sweep; the ids of the entries this gateway removed (none without the lease)."""
        if not await run_sync(self._take_lease):
            return []
        removed: list[int] = []
        try:
            while True:
                expired = await run_sync(self.credit_list.expired, _BATCH)
                for entry in expired:
                    await self._record(entry)
                    if await run_sync(self.credit_list.remove_expired, entry):
                        removed.append(entry.id)
                if len(expired) < _BATCH:
                    break
        finally:
            await run_sync(self._release_lease)
        if removed:
            log.info("list_entries_expired", entries=removed)
        return removed

    async def _record(self, entry: ListEntry) -> None:
        if self.audit is None:
            return
        record = AccessRecord(
            operation=EXPIRY_OPERATION,
            case_number=entry.case_number,
            court_id=entry.court_id,
            subjects=[self.credit_list.reveal(entry)],
        )
        facts = RequestFacts(
            request_id=f"expiry-{entry.id}-{uuid.uuid4().hex[:12]}",
            principal=system_principal(entry.court_id),
            operation_name=EXPIRY_OPERATION,
        )
        await self.audit.append([outcome_draft(facts, record)])

    def _take_lease(self) -> bool:
        at = store.now()
        with self.engine.begin() as connection:
            return store.take_sweep_lease(connection, self.holder, at, at + _LEASE)

    def _release_lease(self) -> None:
        with self.engine.begin() as connection:
            store.release_sweep_lease(connection, self.holder)

    async def start(self) -> None:
        """Sweep once (start-up), then keep sweeping in the background."""
        await self._sweep_logged()
        self._task = asyncio.create_task(self._run(), name="credit-list-expiry")

    async def stop(self) -> None:
        """Stop the background sweeps."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self._sweep_logged()

    async def _sweep_logged(self) -> None:
        # A failed sweep must not stop the gateway: the next one catches up.
        try:
            await self.sweep()
        except Exception as error:
            log.error("list_expiry_sweep_failed", error=type(error).__name__)
