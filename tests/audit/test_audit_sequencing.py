"""Gapless indices with several writer processes, and one integrator at a time."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

from sqlalchemy import select

from gateway.access_record import AccessRecord
from gateway.audit.events import RequestFacts, outcome_draft
from gateway.audit.log import AuditLog
from gateway.audit.store import audit_events
from gateway.audit.verify import verify_log
from gateway.db import create_db_engine
from gateway.keys import load_keys
from gateway.settings import load_settings
from tests.conftest import prepare_deployment

WRITERS = 4
REQUESTS_PER_WRITER = 60
CONCURRENCY = 12


def _writer(data_dir: str, writer: int) -> list[int]:
    """One gateway process: concurrent requests appending through group commit."""
    settings = load_settings(data_dir=Path(data_dir), env={})
    engine = create_db_engine(settings.database_url)
    audit = AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))

    async def run() -> list[int]:
        async def request(number: int) -> int:
            facts = RequestFacts(request_id=f"w{writer}-r{number}")
            (event,) = await audit.append([outcome_draft(facts, AccessRecord())])
            return event.index

        acknowledged: list[int] = []
        for start in range(0, REQUESTS_PER_WRITER, CONCURRENCY):
            batch = range(start, min(start + CONCURRENCY, REQUESTS_PER_WRITER))
            acknowledged += await asyncio.gather(*(request(n) for n in batch))
            # Each process also integrates now and then: only one may hold the lease.
            await asyncio.to_thread(audit.integrate_now)
        await audit.stop()
        return acknowledged

    try:
        return asyncio.run(run())
    finally:
        engine.dispose()


def test_four_writer_processes_produce_gapless_indices(tmp_path: Path, database_url: str) -> None:
    settings = prepare_deployment(tmp_path / "data", database_url)
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        jobs = pool.starmap_async(_writer, [(str(settings.data_dir), w) for w in range(WRITERS)])
        # Bounded: a writer that dies hard would otherwise leave the pool waiting forever.
        results = jobs.get(timeout=180)
    acknowledged = sorted(index for result in results for index in result)
    total = WRITERS * REQUESTS_PER_WRITER
    assert acknowledged == list(range(total))
    engine = create_db_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(select(audit_events.c.idx).order_by(audit_events.c.idx))
            assert list(stored.scalars()) == list(range(total))
        audit = AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))
        audit.integrate_now()
        report = verify_log(audit.store, audit.verifier, audit.verifier.public_key)
        assert report.ok
        assert report.valid == total
        assert [c.size for c in audit.store.checkpoints()][-1] == total
    finally:
        engine.dispose()
