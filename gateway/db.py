"""The gateway's SQLAlchemy engine, its table metadata and thread offloading.

The gateway uses SQLAlchemy's synchronous engine and runs database work in a
worker thread: the same code serves SQLite (embedded default) and PostgreSQL
(production), and short transactions never block the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry

T = TypeVar("T")

# Stable constraint names, so Alembic migrations are the same on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed during the audit writer's transaction; FULL makes an
    # acknowledged commit survive power loss (NORMAL can lose it in WAL mode).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock at the start of the transaction, so two
    # writers never both read the same "next index" (DESIGN.md §7, sequencing).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine for ``url`` with the pragmas and pooling the gateway relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            # pysqlite's own implicit BEGIN would defeat BEGIN IMMEDIATE below.
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


async def run_sync(function: Callable[..., T], *args: Any) -> T:
    """Run blocking database work in a worker thread."""
    return await anyio.to_thread.run_sync(function, *args)
