"""The audit log's tables and every SQL statement that touches them.

Sequencing (DESIGN.md §7): one coordinator row, ``audit_sequence``, holds the
next free index. A batch of events takes it ``FOR UPDATE`` inside the batch's
own transaction, so indices are allocated and made durable together: a failed
transaction gives its indices back, and no other writer (in any process) can
allocate until it commits. A database sequence would leave gaps on rollback.
On SQLite ``FOR UPDATE`` is not needed: every transaction starts with
``BEGIN IMMEDIATE`` (gateway.db), which takes the database's write lock.

Where the backend has ``UPDATE ... RETURNING`` (PostgreSQL, SQLite 3.35+), one
statement both takes the row lock and allocates, so a batch costs one round
trip fewer; it still rolls back with the batch, so indices stay gapless.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    bindparam,
    exists,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from gateway.audit.projection import EventProjection, StoredSubject
from gateway.db import metadata, read_connection

__all__ = [
    "AgencyValues",
    "AuditBackendUnsupported",
    "AuditSequenceMissing",
    "AuditStore",
    "EventFilter",
    "EventRow",
    "EventValues",
    "MeasureValues",
    "SealedBatch",
    "StoredCheckpoint",
    "StoredEvent",
    "SubjectValues",
    "audit_checkpoints",
    "audit_event_agencies",
    "audit_event_measures",
    "audit_events",
    "audit_integrator",
    "audit_sequence",
    "audit_subjects",
]

#: The coordinator row: the next free leaf index.
audit_sequence = Table(
    "audit_sequence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("next_index", BigInteger, nullable=False),
)

#: One row per event: its canonical JSON (the leaf data) plus copies of the
#: facts auditors filter on (gateway.audit.projection derives them). The copies
#: serve search only: what is shown is read from ``entry``, and verification
#: recomputes the copies from it.
audit_events = Table(
    "audit_events",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("time_ms", BigInteger, nullable=False, index=True),
    Column("request_id", String(64), nullable=False, index=True),
    Column("principal_subject", String(128), nullable=True),
    Column("client_id", String(64), nullable=True),
    Column("role", String(16), nullable=True),
    Column("court_id", String(64), nullable=True, index=True),
    Column("officer_id", String(64), nullable=True, index=True),
    Column("case_number", String(128), nullable=True, index=True),
    Column("outcome", String(16), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("receipt_signature", LargeBinary(64), nullable=False),
)

#: The agencies each event asked, for the agency filter and agency clients.
audit_event_agencies = Table(
    "audit_event_agencies",
    metadata,
    Column("event_idx", BigInteger, primary_key=True, autoincrement=False),
    Column("agency_id", String(64), primary_key=True, index=True),
)

#: The control measures each event is about, for the measure filter (0007_measures).
audit_event_measures = Table(
    "audit_event_measures",
    metadata,
    Column("event_idx", BigInteger, primary_key=True, autoincrement=False),
    Column("measure_id", String(64), primary_key=True, index=True),
)

#: Subjects, apart from the events: blind index plus AES-256-GCM ciphertext.
#: Destroying its key leaves every proof valid, because the event commits only
#: to the blind index and the ciphertext's hash. Deleting a row would hide the
#: event from searches by subject, so `audit verify` reports it.
audit_subjects = Table(
    "audit_subjects",
    metadata,
    Column("event_idx", BigInteger, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("blind_index", String(64), nullable=False, index=True),
    Column("key_id", String(16), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
)

#: Signed checkpoints, with the tree frontier the integrator extends next.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("frontier", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

#: The integrator's lease: one row, locked while a checkpoint is being made.
audit_integrator = Table(
    "audit_integrator",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("checkpoints", BigInteger, nullable=False),
)


class EventValues(NamedTuple):
    """One ``audit_events`` row, in the table's column order."""

    idx: int
    kind: str
    time_ms: int
    request_id: str
    principal_subject: str | None
    client_id: str | None
    role: str | None
    court_id: str | None
    officer_id: str | None
    case_number: str | None
    outcome: str
    entry: bytes
    leaf_hash: bytes
    receipt_signature: bytes


class AgencyValues(NamedTuple):
    """One ``audit_event_agencies`` row, in the table's column order."""

    event_idx: int
    agency_id: str


class MeasureValues(NamedTuple):
    """One ``audit_event_measures`` row, in the table's column order."""

    event_idx: int
    measure_id: str


class SubjectValues(NamedTuple):
    """One ``audit_subjects`` row, in the table's column order."""

    event_idx: int
    position: int
    blind_index: str
    key_id: str
    ciphertext: bytes


@dataclass
class SealedBatch:
    """The rows of one batch of events, built once their indices are known.

    Rows are tuples in column order: they go to the driver as they are.
    """

    events: list[EventValues]
    agencies: list[AgencyValues] = field(default_factory=list)
    subjects: list[SubjectValues] = field(default_factory=list)
    measures: list[MeasureValues] = field(default_factory=list)


@dataclass(frozen=True)
class EventFilter:
    """What an auditor searches for; every field narrows the result."""

    blind_index: str | None = None
    officer_id: str | None = None
    court_id: str | None = None
    case_number: str | None = None
    agency_id: str | None = None
    measure_id: str | None = None
    outcome: str | None = None
    kind: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def admits(self, signed: EventProjection) -> bool:
        """Whether an event's signed values match, as the SQL conditions test its copies.

        Search runs on the copies (:func:`_conditions`); this re-checks each hit
        against its entry, so an event whose copies were altered to match a
        search is not shown in it.
        """
        pairs = (
            (self.officer_id, signed.officer_id),
            (self.court_id, signed.court_id),
            (self.case_number, signed.case_number),
            (self.outcome, signed.outcome),
            (self.kind, signed.kind),
        )
        if any(wanted is not None and wanted != value for wanted, value in pairs):
            return False
        if self.since_ms is not None and signed.time_ms < self.since_ms:
            return False
        if self.until_ms is not None and signed.time_ms >= self.until_ms:
            return False
        if self.agency_id is not None and self.agency_id not in signed.agencies:
            return False
        if self.measure_id is not None and self.measure_id not in signed.measures:
            return False
        blind_indexes = {subject.blind_index for subject in signed.subjects}
        return self.blind_index is None or self.blind_index in blind_indexes


@dataclass(frozen=True)
class StoredEvent:
    """One stored event as verification reads it: its row and side-table rows.

    Attributes:
        row: The ``audit_events`` row, every column.
        agencies: The agency ids of its ``audit_event_agencies`` rows.
        subjects: Its ``audit_subjects`` rows, by position.
        measures: The measure ids of its ``audit_event_measures`` rows.
    """

    row: EventRow
    agencies: list[str]
    subjects: list[StoredSubject]
    measures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint row: its signed note and the frontier it was made from."""

    size: int
    root_hash: bytes
    note: str
    frontier: str
    created_ms: int


#: A result row; SQLAlchemy's Row is typed by column tuple, which Core queries lack.
EventRow = Any


class AuditSequenceMissing(RuntimeError):
    """The coordinator row is absent: the audit migration has not run."""


class AuditBackendUnsupported(RuntimeError):
    """The database driver binds parameters in a way the append path cannot use."""


class AuditStore:
    """SQL access to the audit tables.

    Args:
        engine: The gateway's engine.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def append(self, seal: Callable[[int], SealedBatch], count: int) -> SealedBatch:
        """Allocate ``count`` indices and insert the batch ``seal`` builds, atomically.

        Args:
            seal: Builds the batch's rows from its first index; runs while the
                coordinator row is locked, so it must be quick.
            count: How many events the batch holds.

        Returns:
            The batch as inserted.

        Raises:
            AuditSequenceMissing: If the coordinator row does not exist.
            sqlalchemy.exc.SQLAlchemyError: If the database refuses the batch.
        """
        with self.engine.begin() as connection, _driver_cursor(connection) as cursor:
            return self._statements.append(cursor, seal, count)

    def appender(self) -> HeldAppender:
        """A connection of its own for one thread's appends (the audit committer's)."""
        return HeldAppender(self.engine, self._statements)

    def probe(self, sample: SealedBatch) -> None:
        """Check that a batch could be written now, then roll it back.

        Args:
            sample: Rows to try inserting (with an index no event uses).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: If the tables cannot be written.
        """
        statements = self._statements
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                with _driver_cursor(connection) as cursor:
                    statements.allocate_indices(cursor, len(sample.events))
                    statements.insert(cursor, sample)
            finally:
                transaction.rollback()

    @cached_property
    def _statements(self) -> _AppendStatements:
        return _AppendStatements.compile(self.engine.dialect)

    def next_index(self) -> int:
        """The coordinator's next free index (the number of events allocated)."""
        with read_connection(self.engine) as connection:
            value = connection.execute(
                select(audit_sequence.c.next_index).where(audit_sequence.c.id == 1)
            ).scalar_one_or_none()
        return int(value or 0)

    def iter_events(self, start: int = 0, *, chunk: int = 5000) -> Iterator[EventRow]:
        """Every stored event from index ``start`` on, in index order.

        Args:
            start: The first index wanted.
            chunk: Rows read per query (bounded memory).

        Yields:
            Rows with ``idx``, ``entry``, ``leaf_hash``, ``receipt_signature``.
        """
        columns = (
            audit_events.c.idx,
            audit_events.c.entry,
            audit_events.c.leaf_hash,
            audit_events.c.receipt_signature,
        )
        after = start - 1
        while True:
            with read_connection(self.engine) as connection:
                rows = connection.execute(
                    select(*columns)
                    .where(audit_events.c.idx > after)
                    .order_by(audit_events.c.idx)
                    .limit(chunk)
                ).all()
            yield from rows
            if len(rows) < chunk:
                return
            after = int(rows[-1].idx)

    def iter_stored_events(self, *, chunk: int = 5000) -> Iterator[StoredEvent]:
        """Every stored event with its agency and subject rows, in index order.

        Args:
            chunk: Events read per round of queries (bounded memory).

        Yields:
            Each event's full row with the side-table rows stored for its index.
        """
        after: int | None = None
        while True:
            query = select(audit_events).order_by(audit_events.c.idx).limit(chunk)
            if after is not None:
                query = query.where(audit_events.c.idx > after)
            with read_connection(self.engine) as connection:
                rows = connection.execute(query).all()
                if not rows:
                    return
                first, last = int(rows[0].idx), int(rows[-1].idx)
                agencies = _agencies_by_event(connection, first, last)
                subjects = _subjects_by_event(connection, first, last)
                measures = _measures_by_event(connection, first, last)
            for row in rows:
                index = int(row.idx)
                yield StoredEvent(
                    row,
                    agencies.get(index, []),
                    subjects.get(index, []),
                    measures.get(index, []),
                )
            if len(rows) < chunk:
                return
            after = last

    def orphan_rows(self) -> list[tuple[str, int]]:
        """Agency, subject and measure rows whose event is not stored: (table, event index)."""
        found: list[tuple[str, int]] = []
        with read_connection(self.engine) as connection:
            for table in (audit_event_agencies, audit_subjects, audit_event_measures):
                orphaned = (
                    select(table.c.event_idx)
                    .where(~exists().where(audit_events.c.idx == table.c.event_idx))
                    .distinct()
                    .order_by(table.c.event_idx)
                )
                found.extend((table.name, int(i)) for i in connection.execute(orphaned).scalars())
        return found

    def event(self, index: int) -> EventRow | None:
        """One event's full row, or ``None``."""
        with read_connection(self.engine) as connection:
            return connection.execute(
                select(audit_events).where(audit_events.c.idx == index)
            ).first()

    def search(self, where: EventFilter, after: int, limit: int) -> list[EventRow]:
        """Events matching ``where`` with an index above ``after``, in index order.

        Args:
            where: The filter.
            after: Only events with a larger index (cursor pagination).
            limit: At most this many rows.

        Returns:
            The matching rows.
        """
        query = select(audit_events).where(and_(audit_events.c.idx > after, *_conditions(where)))
        with read_connection(self.engine) as connection:
            return list(connection.execute(query.order_by(audit_events.c.idx).limit(limit)).all())

    def subjects(self, indices: Sequence[int]) -> list[EventRow]:
        """The subject rows of these events, in (event, position) order."""
        if not indices:
            return []
        query = (
            select(audit_subjects)
            .where(audit_subjects.c.event_idx.in_(list(indices)))
            .order_by(audit_subjects.c.event_idx, audit_subjects.c.position)
        )
        with read_connection(self.engine) as connection:
            return list(connection.execute(query).all())

    def checkpoints(self) -> list[StoredCheckpoint]:
        """Every stored checkpoint, smallest tree first."""
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(audit_checkpoints).order_by(audit_checkpoints.c.size)
            ).all()
        return [_checkpoint(row) for row in rows]

    def checkpoint(self, size: int, connection: Connection) -> StoredCheckpoint | None:
        """The checkpoint of the tree of ``size`` leaves, or ``None``, read in ``connection``."""
        query = select(audit_checkpoints).where(audit_checkpoints.c.size == size)
        row = connection.execute(query).first()
        return None if row is None else _checkpoint(row)

    def latest_checkpoint(self, connection: Connection | None = None) -> StoredCheckpoint | None:
        """The checkpoint of the largest tree, or ``None`` before the first."""
        query = select(audit_checkpoints).order_by(audit_checkpoints.c.size.desc()).limit(1)
        if connection is not None:
            row = connection.execute(query).first()
        else:
            with read_connection(self.engine) as own:
                row = own.execute(query).first()
        return None if row is None else _checkpoint(row)

    def integrate(
        self, extend: Callable[[Connection], StoredCheckpoint | None], *, wait: bool = False
    ) -> bool:
        """Run ``extend`` holding the integrator lease and store its checkpoint.

        Args:
            extend: Reads the new events and returns the checkpoint to store,
                or ``None`` when there is nothing new.
            wait: Wait for a busy lease instead of skipping this round.

        Returns:
            Whether this process held the lease (another integrator may).
        """
        with self.engine.begin() as connection:
            # SKIP LOCKED: a second integrator (another process) skips this round
            # instead of queueing behind the first (one integrator at a time).
            lease = connection.execute(
                select(audit_integrator.c.checkpoints)
                .where(audit_integrator.c.id == 1)
                .with_for_update(skip_locked=not wait)
            ).scalar_one_or_none()
            if lease is None:
                return False
            checkpoint = extend(connection)
            if checkpoint is not None:
                connection.execute(insert(audit_checkpoints).values(**checkpoint.__dict__))
                connection.execute(
                    update(audit_integrator)
                    .where(audit_integrator.c.id == 1)
                    .values(checkpoints=lease + 1)
                )
        return True

    @staticmethod
    def entries_from(connection: Connection, start: int, limit: int) -> list[EventRow]:
        """Events from index ``start`` on (at most ``limit``), inside a transaction."""
        query = (
            select(audit_events.c.idx, audit_events.c.entry, audit_events.c.leaf_hash)
            .where(audit_events.c.idx >= start)
            .order_by(audit_events.c.idx)
            .limit(limit)
        )
        return list(connection.execute(query).all())


class HeldAppender:
    """:meth:`AuditStore.append` on one driver connection kept between batches.

    The audit committer appends twice per investigation; checking a pooled
    connection out and in and running SQLAlchemy's transaction events around
    each batch cost it more than the statements (measured in the throughput
    bench: 0.08 ms of the committer's CPU per batch, a batch usually holding one
    event). The transaction is the same as :meth:`AuditStore.append`'s:
    ``BEGIN IMMEDIATE`` on SQLite (PostgreSQL begins one implicitly), the
    coordinator row locked by the allocation, one commit. After any error the
    connection is discarded (rolled back, closed) and the next batch opens a
    fresh one. One thread at a time may use it.

    Args:
        engine: The gateway's engine (the connection comes from its pool).
        statements: The compiled append statements.
    """

    #: Idle time after which a server connection is pinged before use, as the pool's
    #: pre-ping would: a server restart must not fail the next batch.
    PING_AFTER_S = 1.0

    def __init__(self, engine: Engine, statements: _AppendStatements) -> None:
        self._engine = engine
        self._statements = statements
        self._sqlite = engine.dialect.name == "sqlite"
        self._connection: Any = None
        self._used_at = 0.0

    def append(self, seal: Callable[[int], SealedBatch], count: int) -> SealedBatch:
        """As :meth:`AuditStore.append`.

        Raises:
            AuditSequenceMissing: If the coordinator row does not exist.
            sqlalchemy.exc.SQLAlchemyError: If the database refuses the batch.
        """
        connection = self._connect()
        try:
            with _driver_errors(self._engine.dialect), _pipelined(connection.dbapi_connection):
                cursor = connection.cursor()
                try:
                    if self._sqlite:
                        cursor.execute("BEGIN IMMEDIATE")  # as gateway.db begins writes
                    batch = self._statements.append(cursor, seal, count)
                finally:
                    cursor.close()
                connection.commit()
        except BaseException:
            self._discard()
            raise
        self._used_at = time.monotonic()
        return batch

    def close(self) -> None:
        """Give the connection back to the pool (idempotent)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(Exception):  # it is being discarded either way
            connection.rollback()
        # Invalidated, not returned: after an error its state is unknown.
        connection.invalidate()

    def _connect(self) -> Any:
        connection = self._connection
        idle = time.monotonic() - self._used_at
        if connection is not None and not self._sqlite and idle > self.PING_AFTER_S:
            try:
                self._engine.dialect.do_ping(connection.dbapi_connection)
            except Exception:
                self._discard()
                connection = None
        if connection is None:
            connection = self._engine.raw_connection()
            self._connection = connection
        return connection


@dataclass(frozen=True)
class _AppendStatements:
    """The append path's SQL, compiled once for one dialect, run on the driver's cursor.

    These statements never change, and SQLAlchemy's per-execution work (cache
    key, parameter processing, result wrapping) cost more than running them:
    every request pays it on two appends (intent and outcome).
    """

    allocate: str | None  # None where the backend lacks UPDATE ... RETURNING
    lock: str
    advance: str
    events: str
    agencies: str
    subjects: str
    measures: str

    @classmethod
    def compile(cls, dialect: Dialect) -> _AppendStatements:
        """Compile the statements for ``dialect``, with positional parameters."""
        if not dialect.positional:
            if dialect.paramstyle != "pyformat":
                # Rows go to the driver as tuples, which "named" drivers refuse. The
                # gateway runs on SQLite (qmark) and PostgreSQL (psycopg, pyformat).
                raise AuditBackendUnsupported(
                    f"the {dialect.name} driver binds parameters as {dialect.paramstyle!r}; "
                    "the audit log needs SQLite or PostgreSQL"
                )
            # psycopg takes %s too (PEP 249 "format"), which binds tuples.
            positional: Callable[..., Dialect] = type(dialect)
            dialect = positional(paramstyle="format")
        sequence = audit_sequence.c
        # A literal, so that each statement's parameters are exactly its values.
        the_row = sequence.id == literal_column("1")
        allocate = None
        if dialect.update_returning:
            increment = bindparam("count", type_=BigInteger)
            statement = (
                update(audit_sequence)
                .where(the_row)
                .values(next_index=sequence.next_index + increment)
                .returning(sequence.next_index)
            )
            allocate = _positional(statement, dialect, ("count",))
        advance = update(audit_sequence).where(the_row)
        return cls(
            allocate=allocate,
            lock=_positional(
                select(sequence.next_index).where(the_row).with_for_update(), dialect, ()
            ),
            advance=_positional(
                advance.values(next_index=bindparam("next_index", type_=BigInteger)),
                dialect,
                ("next_index",),
            ),
            events=_positional(insert(audit_events), dialect, EventValues._fields),
            agencies=_positional(insert(audit_event_agencies), dialect, AgencyValues._fields),
            subjects=_positional(insert(audit_subjects), dialect, SubjectValues._fields),
            measures=_positional(insert(audit_event_measures), dialect, MeasureValues._fields),
        )

    def allocate_indices(self, cursor: DBAPICursor, count: int) -> int:
        """Lock the coordinator row, take ``count`` indices and return the first.

        Raises:
            AuditSequenceMissing: If the coordinator row does not exist.
        """
        if self.allocate is not None:
            # The UPDATE takes the row lock (concurrent batches queue behind it
            # until we commit) and allocates, in one round trip.
            cursor.execute(self.allocate, (count,))
            return _first_value(cursor.fetchall()) - count
        # FOR UPDATE: concurrent batches (any process) queue here until we commit.
        cursor.execute(self.lock)
        start = _first_value(cursor.fetchall())
        cursor.execute(self.advance, (start + count,))
        return start

    def append(
        self, cursor: DBAPICursor, seal: Callable[[int], SealedBatch], count: int
    ) -> SealedBatch:
        """Allocate ``count`` indices, then insert the batch ``seal`` builds from the first."""
        batch = seal(self.allocate_indices(cursor, count))
        self.insert(cursor, batch)
        return batch

    def insert(self, cursor: DBAPICursor, batch: SealedBatch) -> None:
        """Insert a batch's rows."""
        _insert(cursor, self.events, batch.events)
        _insert(cursor, self.agencies, batch.agencies)
        _insert(cursor, self.subjects, batch.subjects)
        _insert(cursor, self.measures, batch.measures)


def _positional(statement: ClauseElement, dialect: Dialect, parameters: Sequence[str]) -> str:
    compiled = statement.compile(dialect=dialect)
    # Rows are bound by position: their fields must be the parameters, in order.
    bound = compiled.positiontup if isinstance(compiled, SQLCompiler) else None
    if list(bound or ()) != list(parameters):
        raise RuntimeError(f"binds {bound}, not the fields {parameters}")
    return compiled.string


def _first_value(rows: Sequence[Any]) -> int:
    if not rows:
        raise AuditSequenceMissing("audit_sequence has no row; run `credgate db upgrade`")
    return int(rows[0][0])


def _insert(cursor: DBAPICursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    # Most batches hold one event; a plain execute is cheaper than executemany.
    if len(rows) == 1:
        cursor.execute(sql, rows[0])
    elif rows:
        cursor.executemany(sql, rows)


@contextmanager
def _driver_cursor(connection: Connection) -> Iterator[DBAPICursor]:
    """The driver's cursor, inside ``connection``'s transaction.

    Only the statements bypass SQLAlchemy: the transaction (``BEGIN
    IMMEDIATE`` on SQLite, commit, rollback) stays the engine's. The driver's
    errors are raised as SQLAlchemy's, as from any other statement.
    """
    cursor = connection.connection.cursor()
    try:
        with _driver_errors(connection.dialect):
            yield cursor
    finally:
        cursor.close()


@contextmanager
def _pipelined(dbapi_connection: Any) -> Iterator[None]:
    """psycopg's pipeline mode around a batch's append, where the driver has one.

    Sent one by one, a batch's statements wait for the server six times (BEGIN,
    the index allocation, three or four INSERTs, COMMIT); pipelined, twice: the
    allocation's result is fetched before the batch is sealed, and the commit
    syncs the rest. An error in any statement is raised at that sync, the
    transaction fails whole, and the caller discards the connection.
    """
    pipeline = getattr(dbapi_connection, "pipeline", None)
    if pipeline is None:  # sqlite3: in-process, nothing to wait for
        yield
        return
    with pipeline():
        yield


@contextmanager
def _driver_errors(dialect: Dialect) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's, as from any other statement."""
    driver_error: type[Exception] = dialect.loaded_dbapi.Error
    try:
        yield
    except driver_error as error:
        raise DBAPIError.instance(None, None, error, driver_error, dialect=dialect) from error


def _agencies_by_event(connection: Connection, first: int, last: int) -> dict[int, list[str]]:
    """The agency ids of events ``first..last``, by event index."""
    c = audit_event_agencies.c
    query = select(c.event_idx, c.agency_id).where(c.event_idx.between(first, last))
    grouped: dict[int, list[str]] = {}
    for index, agency in connection.execute(query).all():
        grouped.setdefault(int(index), []).append(str(agency))
    return grouped


def _measures_by_event(connection: Connection, first: int, last: int) -> dict[int, list[str]]:
    """The measure ids of events ``first..last``, by event index."""
    c = audit_event_measures.c
    query = select(c.event_idx, c.measure_id).where(c.event_idx.between(first, last))
    grouped: dict[int, list[str]] = {}
    for index, measure in connection.execute(query).all():
        grouped.setdefault(int(index), []).append(str(measure))
    return grouped


def _subjects_by_event(
    connection: Connection, first: int, last: int
) -> dict[int, list[StoredSubject]]:
    """The subject rows of events ``first..last``, by event index, in position order."""
    c = audit_subjects.c
    query = (
        select(c.event_idx, c.position, c.blind_index, c.ciphertext)
        .where(c.event_idx.between(first, last))
        .order_by(c.event_idx, c.position)
    )
    grouped: dict[int, list[StoredSubject]] = {}
    for index, position, blind_index, ciphertext in connection.execute(query).all():
        subject = StoredSubject(int(position), str(blind_index), bytes(ciphertext))
        grouped.setdefault(int(index), []).append(subject)
    return grouped


def _conditions(where: EventFilter) -> list[Any]:
    c = audit_events.c
    pairs = (
        (where.officer_id, c.officer_id),
        (where.court_id, c.court_id),
        (where.case_number, c.case_number),
        (where.outcome, c.outcome),
        (where.kind, c.kind),
    )
    conditions: list[Any] = [column == value for value, column in pairs if value is not None]
    if where.since_ms is not None:
        conditions.append(c.time_ms >= where.since_ms)
    if where.until_ms is not None:
        conditions.append(c.time_ms < where.until_ms)
    if where.agency_id is not None:
        agency = audit_event_agencies.c
        conditions.append(
            exists().where(and_(agency.event_idx == c.idx, agency.agency_id == where.agency_id))
        )
    if where.measure_id is not None:
        measure = audit_event_measures.c
        conditions.append(
            exists().where(and_(measure.event_idx == c.idx, measure.measure_id == where.measure_id))
        )
    if where.blind_index is not None:
        subject = audit_subjects.c
        conditions.append(
            exists().where(
                and_(subject.event_idx == c.idx, subject.blind_index == where.blind_index)
            )
        )
    return conditions


def _checkpoint(row: EventRow) -> StoredCheckpoint:
    return StoredCheckpoint(
        size=int(row.size),
        root_hash=bytes(row.root_hash),
        note=str(row.note),
        frontier=str(row.frontier),
        created_ms=int(row.created_ms),
    )
