"""Following open measures in the background: agencies' late answers, and expiry.

A lifespan task (:class:`MeasureRefresher`) runs a round every ``interval_s``:

- measures an agency has yet to answer or execute are polled (``submitted``
  ones submitted again: the same order, idempotent by measure id), and a
  changed report is recorded with an audit event of kind ``measure``;
- placements whose last day has passed are marked ``expired``, with an event.

Several gateway instances may run rounds at once: each measure is taken with a
compare-and-set on its ``updated_at`` (:meth:`MeasureStore.claim_for_update`),
so exactly one instance records a given change.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from typing import TYPE_CHECKING

import structlog

from connectors.random_ids import random_urlsafe
from gateway.audit.events import measure_draft
from gateway.db import run_sync
from gateway.measures.orders import audit_record, audit_step, today
from gateway.measures.service import poll_agency
from gateway.measures.store import MeasureRow

if TYPE_CHECKING:
    from gateway.services import Services

__all__ = ["MeasureRefresher", "refresh_round"]

log = structlog.get_logger("gateway.measures")

#: Measures handled per round; the rest wait for the next (bounded work per round).
ROUND_SIZE = 200


async def _record(services: Services, row: MeasureRow, step: str, round_id: str) -> None:
    if services.audit is None:
        return
    record = audit_record(row, "measureRefresh")
    record.measures.append(audit_step(row, step))
    await services.audit.append([measure_draft(round_id, record)])


async def refresh_round(services: Services) -> int:
    """One round: poll pending measures, expire lapsed ones; returns how many changed."""
    store = services.measures
    if store is None:
        return 0
    round_id = f"measure-refresh-{random_urlsafe(9)}"
    changed = 0
    for row in await run_sync(store.pending, ROUND_SIZE):
        if not await run_sync(store.claim_for_update, row.id, row.updated_at):
            continue  # Another instance took it this round.
        claimed = await run_sync(store.get, row.id)
        if claimed is None:
            continue
        updated, call = await poll_agency(services, claimed)
        if call is not None:
            await _record(services, updated, "reported", round_id)
            changed += 1
    for row in await run_sync(store.lapsed, today(), ROUND_SIZE):
        if not await run_sync(store.claim_for_update, row.id, row.updated_at):
            continue
        expired = await run_sync(partial(store.update, row, status="expired"))
        await _record(services, expired, "expired", round_id)
        changed += 1
    return changed


class MeasureRefresher:
    """Runs :func:`refresh_round` every ``interval_s`` while the gateway runs.

    Args:
        services: The gateway's parts.
        interval_s: Seconds between rounds.
    """

    def __init__(self, services: Services, interval_s: float = 30.0) -> None:
        self.services = services
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the background rounds."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="measure-refresh")

    async def stop(self) -> None:
        """Stop after the running round's current step."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await refresh_round(self.services)
            except Exception:
                # A broken round must not end the task: the next one retries.
                log.exception("measure_refresh_failed")
