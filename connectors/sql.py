"""A base for connectors whose agency data sits in a SQL database.

The agency's own tables are described with SQLAlchemy Core; each adapter maps
its columns to catalog fields and selects only the columns of the fields asked.
Queries run on a sync engine in a worker thread, so ``fetch`` is async and the
caller can cancel it; on cancellation the running statement is interrupted
where the driver allows it (a SQLite progress handler, psycopg ``cancel``).
"""

from __future__ import annotations

import abc
import asyncio
import datetime
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Connection, Select, create_engine, select
from sqlalchemy.exc import SQLAlchemyError

from connectors.sdk import (
    AgencyIdentity,
    AgencyUnavailable,
    BadAgencyResponse,
    DatasetQuery,
    FetchRequest,
    FetchResult,
    JSONValue,
    Record,
    Subject,
    ensure_served,
)

__all__ = [
    "CHINA_STANDARD_TIME",
    "FieldColumn",
    "SqlConnector",
    "coded",
    "iso_date",
    "iso_datetime",
    "money",
    "money_from_cents",
    "read_only_sqlite_url",
    "select_fields",
    "text",
]


def read_only_sqlite_url(path: Path) -> str:
    """A SQLite URI that opens ``path`` read-only.

    Connectors and the gateway only read agency data, and a missing file must
    fail (AgencyUnavailable) rather than be created empty.
    """
    quoted = urllib.parse.quote(str(path.resolve()))
    return f"sqlite:///file:{quoted}?mode=ro&uri=true"


CHINA_STANDARD_TIME = datetime.timezone(datetime.timedelta(hours=8), "CST")
"""Agency systems store local (Beijing) time without an offset."""


@dataclass(frozen=True, slots=True)
class FieldColumn:
    """How one catalog field is read: a column expression and a converter to JSON."""

    column: ColumnElement[Any]
    convert: Callable[[Any], JSONValue]


def text(value: Any) -> JSONValue:
    """A string column, stripped of the padding CHAR columns carry."""
    return None if value is None else str(value).strip()


def money_from_cents(value: Any) -> JSONValue:
    """Integer cents (分) to a two-decimal string."""
    return None if value is None else f"{Decimal(int(value)) / 100:.2f}"


def money(value: Any) -> JSONValue:
    """A NUMERIC amount in yuan to a two-decimal string."""
    return None if value is None else f"{Decimal(value):.2f}"


def iso_date(value: Any) -> JSONValue:
    """A DATE, or a ``YYYYMMDD`` string as many host systems keep dates, to ISO."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.datetime.strptime(value.strip(), "%Y%m%d").date().isoformat()
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise ValueError(f"not a date: {type(value).__name__}")


def iso_datetime(value: Any) -> JSONValue:
    """A naive local DATETIME to ISO 8601 with the +08:00 offset."""
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        raise ValueError(f"not a datetime: {type(value).__name__}")
    return value.replace(tzinfo=CHINA_STANDARD_TIME).isoformat()


def coded(codes: Mapping[str, str]) -> Callable[[Any], JSONValue]:
    """A converter from the agency's status codes to catalog enum values."""

    def convert(value: Any) -> JSONValue:
        if value is None:
            return None
        return codes[str(value).strip()]

    return convert


def select_fields(
    columns: Mapping[str, FieldColumn], fields: Iterable[str]
) -> tuple[Select[Any], Callable[[Any], Record]]:
    """A SELECT of only the columns behind ``fields``, and a row-to-record function."""
    wanted = sorted(fields)
    stmt = select(*(columns[name].column.label(name) for name in wanted))

    def to_record(row: Any) -> Record:
        values = row._mapping
        return {name: columns[name].convert(values[name]) for name in wanted}

    return stmt, to_record


class _StatementCanceller:
    """Stops the statements a worker thread runs once the caller has cancelled.

    SQLite's ``interrupt()`` is lost if it lands between two statements, so on
    SQLite a progress handler polls the flag instead; other drivers get their
    ``cancel()`` (psycopg) and the flag is checked before each statement.
    """

    _POLL_EVERY = 1000  # SQLite virtual machine instructions between polls.

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._driver: Any = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def attach(self, connection: Connection) -> None:
        driver: Any = connection.connection.driver_connection
        if hasattr(driver, "set_progress_handler"):
            driver.set_progress_handler(self._should_abort, self._POLL_EVERY)
        with self._lock:
            self._driver = driver

    def detach(self) -> None:
        with self._lock:
            driver: Any = self._driver
            self._driver = None
        if hasattr(driver, "set_progress_handler"):
            # The connection goes back to the pool; its next user must not be aborted.
            driver.set_progress_handler(None, 0)

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            driver = self._driver
        stop = getattr(driver, "cancel", None)
        if callable(stop):
            stop()

    def _should_abort(self) -> int:
        return 1 if self._cancelled.is_set() else 0


class SqlConnector(abc.ABC):
    """Base of a connector over a SQL database; subclasses implement ``read``.

    Args:
        identity: The agency; its kind must be the subclass's ``kind``.
        database_url: Any SQLAlchemy URL, e.g. ``sqlite:///file:/d/a.sqlite?mode=ro&uri=true``
            or ``postgresql+psycopg://...``.
    """

    kind: ClassVar[str]
    served: ClassVar[frozenset[str]]

    def __init__(self, identity: AgencyIdentity, database_url: str) -> None:
        if identity.kind != self.kind:
            raise ValueError(f"{type(self).__name__} serves {self.kind}, not {identity.kind}")
        self._identity = identity
        self._engine = create_engine(database_url)

    @property
    def identity(self) -> AgencyIdentity:
        """The agency this connector answers for."""
        return self._identity

    @property
    def datasets(self) -> frozenset[str]:
        """The datasets it serves."""
        return self.served

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer the request from the database; see :class:`connectors.sdk.Connector`."""
        ensure_served(self._identity, self.served, request)
        canceller = _StatementCanceller()
        try:
            records = await asyncio.to_thread(self._read_all, request, canceller)
        except asyncio.CancelledError:
            # The worker thread cannot be killed; stop its statement so it ends soon.
            canceller.cancel()
            raise
        return FetchResult(self._identity.id, records)

    @abc.abstractmethod
    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """Read one dataset's records of the subject, with only ``query.fields``.

        Raises:
            SQLAlchemyError: wrapped by the caller into AgencyUnavailable.
            ValueError: a stored value does not convert; wrapped into BadAgencyResponse.
        """

    def close(self) -> None:
        """Dispose of the engine and its pooled connections."""
        self._engine.dispose()

    async def aclose(self) -> None:
        """Dispose of the engine off the event loop."""
        await asyncio.to_thread(self.close)

    def _read_all(
        self, request: FetchRequest, canceller: _StatementCanceller
    ) -> dict[str, list[Record]]:
        agency_id = self._identity.id
        try:
            with self._engine.connect() as connection:
                canceller.attach(connection)
                try:
                    records: dict[str, list[Record]] = {}
                    for name, query in request.datasets.items():
                        if canceller.cancelled:
                            break  # Nobody is waiting for the answer any more.
                        records[name] = self.read(connection, name, request.subject, query)
                    return records
                finally:
                    canceller.detach()
        except SQLAlchemyError as exc:
            # Driver messages may quote SQL and parameters (ID numbers): keep them in
            # the chained cause for logs, out of the message a client may see.
            reason = type(exc.orig if hasattr(exc, "orig") else exc).__name__
            raise AgencyUnavailable(f"database error ({reason})", agency_id=agency_id) from exc
        except (ValueError, ArithmeticError, KeyError) as exc:
            raise BadAgencyResponse(
                f"stored data does not match the contract ({type(exc).__name__})",
                agency_id=agency_id,
            ) from exc
