"""Bulk loading of list entries from JSON lines or CSV, with a per-line report.

A bad row never stops the good ones: each is rejected with its line number and
a reason (``MALFORMED_LINE``, ``INVALID_FIELD``, ``BAD_ID``, ``MINOR_DEBTOR``,
``UNKNOWN_COURT``, ``DUPLICATE``), the rest are imported. Speed comes from doing per-chunk what a
publication does per row: validation and sealing (the costly part: stdnum,
HMAC, AES-GCM) run in worker processes while the main process writes the
previous chunk, and each chunk is one transaction with one duplicate query and
one multi-row insert. A chunk's duplicates are checked against the database
after the previous chunks were committed, so a debtor repeated anywhere in the
file is caught without keeping the whole file in memory.
"""

from __future__ import annotations

import csv
import datetime
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import orjson
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from gateway.credit_list import store
from gateway.credit_list.entries import draft_from_mapping
from gateway.credit_list.sealing import SubjectSealer
from gateway.errors import BadUserInput
from gateway.import_names import flatten_subject, snake_case_keys

Format = Literal["jsonl", "csv"]
# (line number, the row: raw JSON bytes or a CSV row as a dict)
RawRow = tuple[int, bytes | dict[str, str]]
ParsedRow = tuple[int, store.EntryRow]
_ID_FIELDS = frozenset({"subject", "subject.id_type", "subject.id_number"})


@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that was not imported: where it is and why."""

    line: int
    reason: str
    detail: str


@dataclass
class ImportReport:
    """What an import did."""

    read: int = 0
    imported: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    courts: Counter[str] = field(default_factory=Counter)  # entries imported per court

    def reasons(self) -> Counter[str]:
        """How many rows were rejected for each reason."""
        return Counter(rejection.reason for rejection in self.rejections)


class ChunkParser:
    """Validates and seals the rows of a chunk (runs in a worker process)."""

    def __init__(self, sealer: SubjectSealer, today: datetime.date) -> None:
        self.sealer = sealer
        self.today = today

    def __call__(self, chunk: list[RawRow]) -> list[ParsedRow | Rejection]:
        """Each row as column values, or its rejection."""
        return [self._row(line, raw) for line, raw in chunk]

    def _row(self, line: int, raw: bytes | dict[str, str]) -> ParsedRow | Rejection:
        if isinstance(raw, bytes):
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as error:
                return Rejection(line, "MALFORMED_LINE", f"not JSON: {error.msg}")
            if not isinstance(data, dict):
                return Rejection(line, "MALFORMED_LINE", "not a JSON object")
        else:
            data = {key: value for key, value in raw.items() if value != ""}
        data = flatten_subject(snake_case_keys(data))  # GraphQL's names are welcome too
        try:
            draft = draft_from_mapping(data, today=self.today)
        except BadUserInput as error:
            where = str(error.extensions().get("field", ""))
            reason = "BAD_ID" if where in _ID_FIELDS else "INVALID_FIELD"
            if error.code != BadUserInput.code:  # e.g. MINOR_DEBTOR: its own reason
                reason = error.code
            return Rejection(line, reason, error.message)
        people = [self.sealer.seal(associate.subject) for associate in draft.associates]
        return line, store.entry_row(draft, self.sealer.seal(draft.subject), people)


_worker_parser: ChunkParser | None = None


def _start_worker(index_key: bytes, encryption_key: bytes, today: datetime.date) -> None:
    # One parser per worker process, built once from the keys.
    global _worker_parser
    _worker_parser = ChunkParser(SubjectSealer(index_key, encryption_key), today)


def _parse_in_worker(chunk: list[RawRow]) -> list[ParsedRow | Rejection]:
    assert _worker_parser is not None  # noqa: S101 - set by the pool's initializer
    return _worker_parser(chunk)


def read_chunks(
    handle: BinaryIO, fmt: Format, size: int
) -> Iterator[tuple[list[RawRow], int, list[Rejection]]]:
    """The file's rows in chunks, each with the bytes it spans and its unreadable rows."""
    rows = _jsonl_rows(handle) if fmt == "jsonl" else _csv_rows(handle)
    chunk: list[RawRow] = []
    broken: list[Rejection] = []
    start = handle.tell()
    for row in rows:
        if isinstance(row, Rejection):
            broken.append(row)
        else:
            chunk.append(row)
        if len(chunk) >= size:
            end = handle.tell()
            yield chunk, end - start, broken
            chunk, broken, start = [], [], end
    yield chunk, handle.tell() - start, broken


def _jsonl_rows(handle: BinaryIO) -> Iterator[RawRow | Rejection]:
    for line, raw in enumerate(handle, start=1):
        if raw.strip():
            yield line, raw


def _csv_rows(handle: BinaryIO) -> Iterator[RawRow | Rejection]:
    position = {"line": 0}

    def text_lines() -> Iterator[str]:
        for raw in handle:
            position["line"] += 1
            yield raw.decode("utf-8-sig" if position["line"] == 1 else "utf-8", "replace")

    reader = csv.reader(text_lines())
    header = next(reader, None)
    if header is None:
        return
    columns = [name.strip() for name in header]
    first = position["line"] + 1
    for values in reader:
        line, first = first, position["line"] + 1
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(columns):
            detail = f"{len(values)} fields, the header has {len(columns)}"
            yield Rejection(line, "MALFORMED_LINE", detail)
            continue
        yield line, dict(zip(columns, values, strict=True))


class ListImporter:
    """Imports a file of entries into the list.

    Args:
        engine: the gateway database.
        sealer: seals identifiers with the gateway's keys.
        index_key / encryption_key: the same keys, handed to worker processes.
        jobs: worker processes for validation (1: validate in this process).
        chunk_size: rows per transaction.
    """

    def __init__(
        self,
        engine: Engine,
        index_key: bytes,
        encryption_key: bytes,
        *,
        jobs: int = 1,
        chunk_size: int = 5000,
    ) -> None:
        self.engine = engine
        self.keys = (index_key, encryption_key)
        self.jobs = jobs
        self.chunk_size = chunk_size

    def run(self, path: Path, fmt: Format, progress: Callable[[int], object]) -> ImportReport:
        """Import ``path``; ``progress`` is called with the bytes done after each chunk."""
        today = store.now().date()
        report = ImportReport()
        with self.engine.connect() as connection:
            courts = store.court_ids(connection)
        with path.open("rb") as handle:
            chunks = read_chunks(handle, fmt, self.chunk_size)
            for parsed, spanned, broken in self._parsed(chunks, today):
                report.read += len(parsed) + len(broken)
                report.rejections.extend(broken)
                self._write(parsed, courts, report)
                progress(spanned)
        report.rejections.sort(key=lambda rejection: rejection.line)
        return report

    def _parsed(
        self, chunks: Iterator[tuple[list[RawRow], int, list[Rejection]]], today: datetime.date
    ) -> Iterator[tuple[list[ParsedRow | Rejection], int, list[Rejection]]]:
        if self.jobs <= 1:
            parser = ChunkParser(SubjectSealer(*self.keys), today)
            for chunk, spanned, broken in chunks:
                yield parser(chunk), spanned, broken
            return
        # spawn, not fork: the parent may hold database connections and threads.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            self.jobs, context, initializer=_start_worker, initargs=(*self.keys, today)
        ) as pool:
            pending: deque[tuple[Future[list[ParsedRow | Rejection]], int, list[Rejection]]]
            pending = deque()
            for chunk, spanned, broken in chunks:
                pending.append((pool.submit(_parse_in_worker, chunk), spanned, broken))
                # Bounded read-ahead: enough to keep every worker busy, never the whole file.
                if len(pending) > 2 * self.jobs:
                    future, size, bad = pending.popleft()
                    yield future.result(), size, bad
            while pending:
                future, size, bad = pending.popleft()
                yield future.result(), size, bad

    def _write(
        self, parsed: list[ParsedRow | Rejection], courts: set[str], report: ImportReport
    ) -> None:
        candidates: list[ParsedRow] = []
        for row in parsed:
            if isinstance(row, Rejection):
                report.rejections.append(row)
            elif row[1].values["court_id"] not in courts:
                court = row[1].values["court_id"]
                report.rejections.append(Rejection(row[0], "UNKNOWN_COURT", f"no court '{court}'"))
            else:
                candidates.append(row)
        for attempt in (1, 2):
            try:
                with self.engine.begin() as connection:
                    _large_cache(connection)
                    fresh = _without_duplicates(connection, candidates)
                    store.insert_entries(connection, [row for _, row in fresh])
            except IntegrityError:
                # A publication raced this chunk; look again (once) for what is now listed.
                if attempt == 2:
                    raise
                continue
            break
        report.rejections.extend(
            Rejection(line, "DUPLICATE", detail) for line, detail in _duplicates(candidates, fresh)
        )
        report.imported += len(fresh)
        report.courts.update(row.values["court_id"] for _, row in fresh)


def _large_cache(connection: Connection) -> None:
    # The blind index is random, so inserts land all over its B-tree; SQLite's default
    # 2 MB page cache would reread pages from disk for most rows of a big list.
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA cache_size = -262144")  # KiB: 256 MB


def _without_duplicates(connection: Connection, rows: list[ParsedRow]) -> list[ParsedRow]:
    indexes = sorted({row.values["subject_index"] for _, row in rows})
    listed = store.listed_pairs(connection, indexes)
    fresh: list[ParsedRow] = []
    for line, row in rows:
        pair = (row.values["subject_index"], row.values["case_number"])
        if pair not in listed:
            listed.add(pair)
            fresh.append((line, row))
    return fresh


def _duplicates(rows: list[ParsedRow], kept: list[ParsedRow]) -> Iterator[tuple[int, str]]:
    kept_lines = {line for line, _ in kept}
    for line, row in rows:
        if line not in kept_lines:
            yield line, f"debtor already listed in case {row.values['case_number']}"
