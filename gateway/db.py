"""The gateway's SQLAlchemy engine, its table metadata and thread offloading.

The gateway uses SQLAlchemy's synchronous engine and runs database work in a
worker thread (:func:`run_sync`): the same code serves SQLite (embedded default)
and PostgreSQL (production), and transactions never block the event loop. The
one exception is a short read on SQLite (:func:`run_read`), which costs less in
place than the hand-off to a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import MetaData, create_engine, event, make_url
from sqlalchemy.engine import Connection, Engine
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


READ_ONLY = "credgate_read_only"


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        # A reader in WAL mode sees a snapshot and never waits for a writer; a
        # deferred BEGIN keeps it that way.
        connection.exec_driver_sql("BEGIN")
        return
    # BEGIN IMMEDIATE takes the write lock at the start of the transaction, so two
    # writers never both read the same "next index" (DESIGN.md §7, sequencing),
    # and a read-then-write transaction never fails on a lock upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


#: Threads for blocking database work (:func:`run_sync`).
DATABASE_THREADS = 8
#: Connections kept open: one per database thread, plus the audit committer and
#: the integrator. A pool smaller than that closes a connection each time a
#: burst ends and opens one at the next (file opens and pragmas on SQLite, a TCP
#: and auth handshake on PostgreSQL), which costs more than the query.
POOL_SIZE = DATABASE_THREADS + 2

_database_threads = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="credgate-db")


def create_db_engine(url: str, *, pool_size: int = POOL_SIZE) -> Engine:
    """Create an engine for ``url`` with the pragmas and pooling the gateway relies on."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        in_memory = not database or database == ":memory:" or "mode=memory" in url
        # An in-memory database lives in one connection: SQLAlchemy picks its pool.
        # LIFO: the connection used last, whose page cache is warmest, serves next
        # (FIFO went round all of them, each re-reading pages another had changed).
        pooling: dict[str, Any] = (
            {}
            if in_memory
            else {"pool_size": pool_size, "max_overflow": pool_size, "pool_use_lifo": True}
        )
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **pooling
        )
        event.listen(engine, "connect", _sqlite_pragmas)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            # pysqlite's own implicit BEGIN would defeat BEGIN IMMEDIATE below.
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


async def run_read(engine: Engine, function: Callable[..., T], *args: Any) -> T:
    """Run a short read of ``engine``: in place on SQLite, in a worker thread otherwise.

    On the embedded SQLite a read is a WAL snapshot of a few cached pages that
    never waits for a writer; handing it to a thread costs more than the read
    itself (sqlite3 releases the GIL at every step, and each hand-back wakes the
    loop: measured, a case look-up took 0.4 ms of CPU in a thread against 0.2 ms
    in place, at concurrency 16). On PostgreSQL a read is a network round trip,
    which must not hold up the event loop.
    """
    if engine.dialect.name == "sqlite":
        return function(*args)
    return await run_sync(function, *args)


def read_connection(engine: Engine, *, one_statement: bool = False) -> Connection:
    """A connection for reads only (use as a context manager).

    Every other transaction on SQLite begins IMMEDIATE and so queues behind the
    audit writer; reads must not, or an investigation's case look-up would wait
    for other requests' audit commits.

    Args:
        one_statement: The read is a single statement, consistent on its own. On
            a database server it then runs in autocommit: no BEGIN before it and
            no ROLLBACK when the connection goes back to the pool, two round
            trips of the four a pooled read costs (with the pre-ping). SQLAlchemy
            restores the isolation level when the connection is returned.
    """
    connection = engine.connect().execution_options(**{READ_ONLY: True})
    if one_statement and engine.dialect.name != "sqlite":
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


async def run_sync(function: Callable[..., T], *args: Any) -> T:
    """Run blocking database work in a worker thread.

    The call is handed to the thread at once (``run_in_executor``). anyio's
    ``to_thread`` first yields to the event loop, and on a loaded loop every such
    trip costs milliseconds: every investigation waits for its case look-up.
    A cancelled caller stops waiting; the thread finishes its (short) transaction.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_database_threads, partial(function, *args))
