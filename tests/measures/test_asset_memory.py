"""The assets an investigation returned are recorded once: a repeated investigation
asks the database nothing about them, and what was recorded still backs a measure,
also for a gateway process that has not seen it recorded. Through HTTP, on SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select

from gateway.measures.store import MeasureStore, _RecordedRefs, investigated_assets
from tests.measures.conftest import Desk


@contextmanager
def _statements_on_assets(desk: Desk) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = desk.gateway.services.engine

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "investigated_assets" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _recorded(desk: Desk) -> int:
    with desk.gateway.services.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(investigated_assets)).scalar_one()
        )


async def test_a_repeated_investigation_asks_nothing_about_recorded_assets(desk: Desk) -> None:
    with _statements_on_assets(desk) as first:
        accounts = await desk.investigate()
    recorded = _recorded(desk)
    with _statements_on_assets(desk) as second:
        assert await desk.investigate() == accounts

    assert accounts
    assert recorded >= len(accounts)
    assert first, "the first investigation records its assets"
    assert second == []
    assert _recorded(desk) == recorded
    frozen = await desk.freeze(accounts[0])
    assert "errors" not in frozen, frozen


async def test_a_process_that_has_not_seen_them_finds_them_recorded(desk: Desk) -> None:
    accounts = await desk.investigate()
    services = desk.gateway.services
    assert services.measures is not None
    # Another gateway process on the same database: its memory of recorded assets is empty.
    services.measures = MeasureStore(
        services.engine, services.keys.blind_index_key, services.keys.subject_encryption_key
    )
    recorded = _recorded(desk)
    with _statements_on_assets(desk) as asked:
        assert await desk.investigate() == accounts

    assert asked
    assert all(s.lstrip().upper().startswith("SELECT") for s in asked)
    assert _recorded(desk) == recorded
    frozen = await desk.freeze(accounts[0])
    assert "errors" not in frozen, frozen


def test_the_memory_of_recorded_assets_is_bounded() -> None:
    refs = _RecordedRefs(kept=100)
    refs.add(f"ref-{n}" for n in range(250))

    missing = refs.missing(f"ref-{n}" for n in range(250))
    assert len(missing) >= 150
    assert "ref-249" not in missing  # the newest are kept
    assert "ref-0" in missing  # the oldest forgotten: looked up again, never wrongly assumed
