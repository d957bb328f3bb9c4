"""Courts, officers and enforcement cases: the one module that talks SQL for them.

A case carries what the legal-authority check needs: its court and status, the
officers assigned to it, its respondents (judgment debtors) and the
assistance-inquiry notice (协助查询通知书) on which agencies are asked.

A respondent's ID number is never stored in plain text (DESIGN.md §7): the
table holds its keyed blind index (HMAC-SHA256, RFC 2104), which the authority
check compares, and its AES-256-GCM ciphertext (NIST SP 800-38D), opened only
to show the officer their cases. Both keys live in the key directory, so a dump
of the database alone yields neither the IDs nor a way to test guesses.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Select,
    String,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from connectors.subject import Subject, parse_subject
from gateway.credit_list.sealing import SubjectSealer
from gateway.db import metadata, read_connection
from gateway.errors import CredgateError
from gateway.keys import KeySet

__all__ = [
    "Case",
    "CaseConflict",
    "CaseEntry",
    "CaseStatus",
    "CaseStore",
    "Court",
    "Document",
    "Officer",
    "Respondent",
]

#: ``terminated``: ended by 终结本次执行程序 (SPC provisions on terminating the current
#: enforcement procedure, 2016): closed as a case, but the court keeps querying the
#: debtor's assets (art. 9: at least every six months) and resumes on finding any.
CaseStatus = Literal["open", "closed", "terminated"]

# RFC 5869 info for the respondents' encryption key: distinct from the list's.
_SEALING_PURPOSE = b"credgate/cases/respondent-id/v1"

courts = Table(
    "courts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
)

officers = Table(
    "officers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("court_id", String(64), ForeignKey("courts.id"), nullable=False),
    Column("name", String(100)),
)

cases = Table(
    "cases",
    metadata,
    Column("case_number", String(64), primary_key=True),
    Column("court_id", String(64), ForeignKey("courts.id"), nullable=False),
    Column("status", String(8), nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("document_type", String(64), nullable=False),
    Column("document_number", String(128), nullable=False),
    Column("document_valid_until", Date),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('open', 'closed')", name="status"),
)

# Migration 0008_case_terminated: a terminated case is stored ``closed`` (it is
# concluded, 结案) with a row here; resuming enforcement deletes the row.
case_terminations = Table(
    "case_terminations",
    metadata,
    Column(
        "case_number",
        String(64),
        ForeignKey("cases.case_number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("terminated_on", Date, nullable=False),
)

case_officers = Table(
    "case_officers",
    metadata,
    Column(
        "case_number",
        String(64),
        ForeignKey("cases.case_number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("officer_id", String(64), ForeignKey("officers.id"), primary_key=True),
    Index(None, "officer_id"),
)

case_respondents = Table(
    "case_respondents",
    metadata,
    Column(
        "case_number",
        String(64),
        ForeignKey("cases.case_number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("subject_index", String(64), primary_key=True),
    Column("id_type", String(16), nullable=False),
    Column("id_ciphertext", LargeBinary, nullable=False),
    Column("name", String(100)),
)


class CaseConflict(CredgateError):
    """A case cannot be saved as given, e.g. it names an officer of another court."""

    code = "CASE_CONFLICT"


@dataclass(frozen=True)
class Court:
    """A court, e.g. ``Court("court-wuzhi", "武陟县人民法院")``."""

    id: str
    name: str


@dataclass(frozen=True)
class Officer:
    """An enforcement officer of a court."""

    id: str
    court_id: str
    name: str | None = None


@dataclass(frozen=True)
class Respondent:
    """A judgment debtor named in a case: ``id_type`` is ``resident_id`` or ``uscc``.

    Attributes:
        blind_index: The keyed index the store keeps (``None`` before saving).
    """

    id_type: str
    id_number: str
    name: str | None = None
    blind_index: str | None = None


@dataclass(frozen=True)
class Document:
    """The legal document agencies are asked on, e.g. an assistance-inquiry notice."""

    type: str
    number: str
    valid_until: datetime.date | None = None

    def valid_on(self, day: datetime.date) -> bool:
        """Whether the document is still in force on ``day``."""
        return self.valid_until is None or day <= self.valid_until


@dataclass(frozen=True)
class Case:
    """An enforcement case with its assigned officers and respondents."""

    case_number: str
    court: Court
    status: CaseStatus
    filed_on: datetime.date
    document: Document
    officer_ids: tuple[str, ...]
    respondents: tuple[Respondent, ...]
    terminated_on: datetime.date | None = None

    @property
    def is_open(self) -> bool:
        """Whether enforcement is still under way."""
        return self.status == "open"

    @property
    def allows_inquiry(self) -> bool:
        """Whether assets may be queried: open, or terminated (re-query of assets)."""
        return self.status in ("open", "terminated")

    def is_assigned(self, officer_id: str | None) -> bool:
        """Whether the officer is assigned to this case."""
        return officer_id is not None and officer_id in self.officer_ids

    def respondent_by_index(self, blind_index: str) -> Respondent | None:
        """The respondent with this blind index, if the case names one."""
        for respondent in self.respondents:
            if respondent.blind_index is not None and hmac.compare_digest(
                respondent.blind_index, blind_index
            ):
                return respondent
        return None


@dataclass(frozen=True)
class CaseEntry:
    """A case as an import or the demo provides it: the case plus its people."""

    case_number: str
    court: Court
    status: CaseStatus
    filed_on: datetime.date
    document: Document
    officers: tuple[Officer, ...]
    respondents: tuple[Respondent, ...]
    terminated_on: datetime.date | None = None


class CaseStore:
    """Reads and writes courts, officers and cases (sync; offload with ``run_sync``).

    Args:
        engine: The gateway database.
        sealer: Seals respondents' IDs; build it with :meth:`from_keys`.
    """

    def __init__(self, engine: Engine, sealer: SubjectSealer) -> None:
        self._engine = engine
        self._sealer = sealer

    @classmethod
    def from_keys(cls, engine: Engine, keys: KeySet) -> CaseStore:
        """A store sealing IDs with the key directory's blind-index and encryption keys."""
        sealer = SubjectSealer(
            keys.blind_index_key, keys.subject_encryption_key, purpose=_SEALING_PURPOSE
        )
        return cls(engine, sealer)

    def respondent(self, case: Case, subject: Subject) -> Respondent | None:
        """The respondent of ``case`` that ``subject`` is, matched by blind index."""
        return case.respondent_by_index(self._sealer.index(subject.id_type, subject.id_number))

    def save(self, entry: CaseEntry) -> bool:
        """Insert or replace a case, its officers and respondents in one transaction.

        Courts and officers named by the entry are created if missing; a court's
        name is brought up to date. Saving the same entry twice changes nothing.

        Returns:
            Whether the case was new.

        Raises:
            CaseConflict: an officer belongs to another court than the case.
        """
        with self._engine.begin() as connection:
            _upsert_court(connection, entry.court)
            for officer in entry.officers:
                _ensure_officer(connection, officer, entry.court.id)
            return _upsert_case(connection, entry, self._sealer)

    def holds(self, entry: CaseEntry) -> bool:
        """Whether saving ``entry`` would change nothing (an unchanged re-import).

        Compares the case, its court, document, officers (with their names) and
        respondents (with their names) as stored.
        """
        with read_connection(self._engine) as connection:
            found = _load_cases(connection, [entry.case_number], self._sealer)
            rows = connection.execute(
                select(officers.c.id, officers.c.name).where(
                    officers.c.id.in_([o.id for o in entry.officers])
                )
            )
            names: dict[str, str | None] = {row.id: row.name for row in rows}
        if not found:
            return False
        case = found[0]
        return (
            case.court == entry.court
            and case.status == entry.status
            and case.filed_on == entry.filed_on
            and case.document == entry.document
            and set(case.officer_ids) == {o.id for o in entry.officers}
            and all(o.name is None or names.get(o.id) == o.name for o in entry.officers)
            and {(r.id_type, r.id_number, r.name) for r in case.respondents}
            == {(r.id_type, r.id_number, r.name) for r in entry.respondents}
        )

    def case(self, case_number: str) -> Case | None:
        """The case with this number, or ``None``."""
        # One joined SELECT (_ONE_CASE): consistent without a transaction.
        with read_connection(self._engine, one_statement=True) as connection:
            found = _load_cases(connection, [case_number], self._sealer)
        return found[0] if found else None

    def cases_of_officer(self, officer_id: str) -> list[Case]:
        """The cases the officer is assigned to, newest filing first."""
        with read_connection(self._engine) as connection:
            numbers = connection.execute(
                select(case_officers.c.case_number).where(case_officers.c.officer_id == officer_id)
            ).scalars()
            return _load_cases(connection, list(numbers), self._sealer)


def _upsert_court(connection: Connection, court: Court) -> None:
    name = connection.execute(select(courts.c.name).where(courts.c.id == court.id)).scalar()
    if name is None:
        connection.execute(insert(courts).values(id=court.id, name=court.name))
    elif name != court.name:
        connection.execute(update(courts).where(courts.c.id == court.id).values(name=court.name))


def _ensure_officer(connection: Connection, officer: Officer, court_id: str) -> None:
    row = connection.execute(select(officers).where(officers.c.id == officer.id)).first()
    if row is None:
        connection.execute(
            insert(officers).values(id=officer.id, court_id=court_id, name=officer.name)
        )
        return
    if row.court_id != court_id:
        raise CaseConflict(
            f"officer {officer.id} belongs to court {row.court_id}, not to {court_id}",
            field="officers",
        )
    if officer.name is not None and officer.name != row.name:
        connection.execute(
            update(officers).where(officers.c.id == officer.id).values(name=officer.name)
        )


def _upsert_case(connection: Connection, entry: CaseEntry, sealer: SubjectSealer) -> bool:
    values: dict[str, Any] = {
        "court_id": entry.court.id,
        "status": "closed" if entry.status == "terminated" else entry.status,
        "filed_on": entry.filed_on,
        "document_type": entry.document.type,
        "document_number": entry.document.number,
        "document_valid_until": entry.document.valid_until,
        "updated_at": datetime.datetime.now(datetime.UTC),
    }
    number = entry.case_number
    exists = connection.execute(
        select(cases.c.case_number).where(cases.c.case_number == number)
    ).first()
    if exists is None:
        connection.execute(insert(cases).values(case_number=number, **values))
    else:
        connection.execute(update(cases).where(cases.c.case_number == number).values(**values))
        connection.execute(delete(case_officers).where(case_officers.c.case_number == number))
        connection.execute(delete(case_respondents).where(case_respondents.c.case_number == number))
    _insert_people(connection, entry, sealer)
    connection.execute(delete(case_terminations).where(case_terminations.c.case_number == number))
    if entry.status == "terminated":
        day = entry.terminated_on or datetime.datetime.now(datetime.UTC).date()
        connection.execute(insert(case_terminations).values(case_number=number, terminated_on=day))
    return exists is None


def _insert_people(connection: Connection, entry: CaseEntry, sealer: SubjectSealer) -> None:
    """The case's officer assignments and respondents (each listed once)."""
    number = entry.case_number
    officer_ids = sorted({officer.id for officer in entry.officers})
    if officer_ids:
        connection.execute(
            insert(case_officers),
            [{"case_number": number, "officer_id": officer_id} for officer_id in officer_ids],
        )
    sealed: dict[str, dict[str, Any]] = {}
    for r in entry.respondents:
        seal = sealer.seal(parse_subject(r.id_type, r.id_number, r.name))
        sealed[seal.index] = {
            "case_number": number,
            "subject_index": seal.index,
            "id_type": r.id_type,
            "id_ciphertext": seal.ciphertext,
            "name": r.name,
        }
    if sealed:
        connection.execute(insert(case_respondents), list(sealed.values()))


def _cases_where(wanted: ColumnElement[bool]) -> Select[Any]:
    """Cases with their court, termination, officers and respondents, in one query.

    One round trip: every investigation waits for this look-up before its
    fan-out, and a case has few officers and respondents, so the joined rows
    (officers x respondents per case) stay few.
    """
    return (
        select(
            cases,
            courts.c.name.label("court_name"),
            case_officers.c.officer_id,
            case_respondents.c.id_type,
            case_respondents.c.subject_index,
            case_respondents.c.id_ciphertext,
            case_respondents.c.name.label("respondent_name"),
            case_terminations.c.terminated_on,
        )
        .join(courts, courts.c.id == cases.c.court_id)
        .outerjoin(case_terminations, case_terminations.c.case_number == cases.c.case_number)
        .outerjoin(case_officers, case_officers.c.case_number == cases.c.case_number)
        .outerjoin(case_respondents, case_respondents.c.case_number == cases.c.case_number)
        .where(wanted)
        .order_by(cases.c.filed_on.desc(), cases.c.case_number)
    )


# Built once: constructing the statement cost as much as running it (SQLAlchemy
# then finds its compiled form in the engine's cache by the statement's key).
_ONE_CASE = _cases_where(cases.c.case_number == bindparam("case_number"))


def _load_cases(
    connection: Connection, numbers: Sequence[str], sealer: SubjectSealer
) -> list[Case]:
    if not numbers:
        return []
    if len(numbers) == 1:
        # Every investigation looks up one case: its statement is built once.
        rows = connection.execute(_ONE_CASE, {"case_number": numbers[0]}).all()
    else:
        rows = connection.execute(_cases_where(cases.c.case_number.in_(numbers))).all()
    found: dict[str, tuple[Any, set[str], dict[str, tuple[Any, ...]]]] = {}
    for row in rows:
        _, officer_ids, named = found.setdefault(row.case_number, (row, set(), {}))
        if row.officer_id is not None:
            officer_ids.add(row.officer_id)
        if row.subject_index is not None:
            named[row.subject_index] = (
                row.id_type,
                row.subject_index,
                row.id_ciphertext,
                row.respondent_name,
            )
    return [
        Case(
            case_number=row.case_number,
            court=Court(row.court_id, row.court_name),
            status=_status(row.status, row.terminated_on),
            filed_on=row.filed_on,
            document=Document(row.document_type, row.document_number, row.document_valid_until),
            officer_ids=tuple(sorted(officer_ids)),
            respondents=_opened(sealer, named.values()),
            terminated_on=row.terminated_on,
        )
        for row, officer_ids, named in found.values()
    ]


def _status(stored: str, terminated_on: datetime.date | None) -> CaseStatus:
    if stored == "open":
        return "open"
    return "terminated" if terminated_on is not None else "closed"


def _opened(sealer: SubjectSealer, rows: Iterable[tuple[Any, ...]]) -> tuple[Respondent, ...]:
    """Respondents with their IDs decrypted, in (type, ID) order.

    Raises:
        SealBroken: a stored ID does not decrypt under its row's blind index.
    """
    opened = [
        Respondent(id_type, sealer.open(ciphertext, index), name, index)
        for id_type, index, ciphertext, name in rows
    ]
    return tuple(sorted(opened, key=lambda r: (r.id_type, r.id_number)))
