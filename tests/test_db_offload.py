"""Where database work runs: short reads in place on SQLite, everything else in worker threads."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import text

from gateway.db import create_db_engine, run_read, run_sync


def _where(engine_url: str) -> tuple[int, int]:
    engine = create_db_engine(engine_url)

    def read() -> int:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return threading.get_ident()

    async def both() -> tuple[int, int]:
        return await run_read(engine, read), await run_sync(read)

    try:
        return asyncio.run(both())
    finally:
        engine.dispose()


def test_a_read_runs_in_place_on_sqlite_and_other_work_in_a_thread(database_url: str) -> None:
    here = threading.get_ident()
    read_in, work_in = _where(database_url)
    assert work_in != here  # run_sync always hands over to a worker thread
    if database_url.startswith("sqlite"):
        assert read_in == here  # a local snapshot read: no hand-off
    else:
        assert read_in != here  # a network round trip: never on the event loop
