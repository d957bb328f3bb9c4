"""The dishonest-debtor list's tables: the one module that talks SQL for the list.

Entries point at the court registry of the cases domain (``courts``), so a court
is registered once for cases and for the list. Every change to an entry appends
a row to ``credit_list_changes`` whose ``seq`` is taken from a coordinator row
(``credit_list_feed_head``) updated in the same transaction: the update locks
the row until commit (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE), so
sequence numbers are gapless and become visible in order, and a reader that
has seen ``seq`` n has seen every change before it. A database sequence would
leave gaps on rollback and let n+1 commit before n, and an agency following
the feed would then skip a change for good (DESIGN.md §7, sequencing).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Row,
    String,
    Table,
    Text,
    and_,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)

from gateway.case_store import courts
from gateway.credit_list.entries import (
    Circumstance,
    EntryDraft,
    EntryState,
    ListEntry,
    Performance,
    Sex,
)
from gateway.credit_list.sanctions import Measure, Outcome
from gateway.credit_list.sealing import SealedSubject
from gateway.db import metadata

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets 64 bits.
Id = BigInteger().with_variant(Integer(), "sqlite")
REMOVED = EntryState.REMOVED.value

entries = Table(
    "credit_list_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("id_type", String(16), nullable=False),
    Column("subject_index", String(64), nullable=False),
    Column("id_ciphertext", LargeBinary, nullable=False),
    Column("id_masked", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("sex", String(8)),
    Column("age", Integer),
    Column("legal_representative", String(100)),
    Column("case_number", String(128), nullable=False),
    # No foreign key: courts belong to the cases branch (see migration 0004).
    Column("court_id", String(64), nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("basis_issuer", String(128), nullable=False),
    Column("basis_number", String(128), nullable=False),
    Column("obligations", Text, nullable=False),
    Column("performance", String(32), nullable=False),
    Column("performed_part", Text),
    Column("circumstance", String(48), nullable=False),
    Column("published_on", Date, nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_reason", Text),
    Column("state_changed_on", Date),
    # One entry in force per debtor and case; a removed entry may be listed again.
    # Look-ups use this index too: their WHERE carries the same predicate.
    Index(
        "uq_credit_list_entries_active",
        "subject_index",
        "case_number",
        unique=True,
        sqlite_where=text(f"state != '{REMOVED}'"),
        postgresql_where=text(f"state != '{REMOVED}'"),
    ),
    Index("ix_credit_list_entries_name", "name"),
    Index("ix_credit_list_entries_court_id", "court_id"),
)

changes = Table(
    "credit_list_changes",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_id", Id, ForeignKey("credit_list_entries.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)

feed_head = Table(
    "credit_list_feed_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_seq", BigInteger, nullable=False),
)

sanctions = Table(
    "credit_list_sanctions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("entry_id", Id, ForeignKey("credit_list_entries.id"), nullable=False),
    Column("agency_id", String(64), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("measure", String(48), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("applied_on", Date, nullable=False),
    Column("note", Text),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Index("ix_credit_list_sanctions_applied_on", "applied_on"),
)

lookups = Table(
    "credit_list_lookups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("agency_id", String(64), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("looked_up_on", Date, nullable=False),
    Column("subjects", Integer, nullable=False),
    Column("listed", Integer, nullable=False),
    Index("ix_credit_list_lookups_looked_up_on", "looked_up_on"),
)

# A literal, not a bound parameter: SQLite (and a generic PostgreSQL plan) only uses
# the partial index when the query repeats its predicate with the same constant.
IN_FORCE = entries.c.state != literal_column(f"'{REMOVED}'")
_ENTRY_COLUMNS = (*entries.c, courts.c.name.label("court_name"))


def now() -> datetime.datetime:
    """The current time in UTC."""
    return datetime.datetime.now(datetime.UTC)


def entry_values(draft: EntryDraft, sealed: SealedSubject) -> dict[str, Any]:
    """The column values of a new or corrected entry (state columns excluded)."""
    return {
        "id_type": draft.subject.id_type,
        "subject_index": sealed.index,
        "id_ciphertext": sealed.ciphertext,
        "id_masked": sealed.masked,
        "name": draft.subject.name,
        "sex": draft.sex.value if draft.sex else None,
        "age": draft.age,
        "legal_representative": draft.legal_representative,
        "case_number": draft.case_number,
        "court_id": draft.court_id,
        "filed_on": draft.filed_on,
        "basis_issuer": draft.basis_issuer,
        "basis_number": draft.basis_number,
        "obligations": draft.obligations,
        "performance": draft.performance.value,
        "performed_part": draft.performed_part,
        "circumstance": draft.circumstance.value,
        "published_on": draft.published_on,
    }


def _entry(row: Row[Any]) -> ListEntry:
    return ListEntry(
        id=row.id,
        id_type=row.id_type,
        subject_index=row.subject_index,
        id_ciphertext=row.id_ciphertext,
        id_masked=row.id_masked,
        name=row.name,
        sex=Sex.of(row.sex) if row.sex else None,
        age=row.age,
        legal_representative=row.legal_representative,
        case_number=row.case_number,
        court_id=row.court_id,
        court_name=row.court_name,
        filed_on=row.filed_on,
        basis_issuer=row.basis_issuer,
        basis_number=row.basis_number,
        obligations=row.obligations,
        performance=Performance.of(row.performance),
        performed_part=row.performed_part,
        circumstance=Circumstance.of(row.circumstance),
        published_on=row.published_on,
        state=EntryState.of(row.state),
        state_reason=row.state_reason,
        state_changed_on=row.state_changed_on,
    )


def _select_entries() -> Any:
    return select(*_ENTRY_COLUMNS).join(courts, courts.c.id == entries.c.court_id)


def court_ids(connection: Connection) -> set[str]:
    """Every registered court id."""
    return set(connection.execute(select(courts.c.id)).scalars())


def ensure_courts(connection: Connection, known: Iterable[tuple[str, str]]) -> None:
    """Register the ``(id, name)`` courts that are missing (for the demo and tests)."""
    present = court_ids(connection)
    missing = [{"id": cid, "name": name} for cid, name in known if cid not in present]
    if missing:
        connection.execute(insert(courts), missing)


def listed_pairs(
    connection: Connection, indexes: Sequence[str], *, include_removed: bool = False
) -> set[tuple[str, str]]:
    """The (subject index, case number) pairs among ``indexes`` in force (or ever listed)."""
    if not indexes:
        return set()
    query = select(entries.c.subject_index, entries.c.case_number).where(
        entries.c.subject_index.in_(indexes)
    )
    if not include_removed:
        query = query.where(IN_FORCE)
    return {(row.subject_index, row.case_number) for row in connection.execute(query)}


def insert_entries(connection: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert published entries and their change events; returns their ids in order."""
    if not rows:
        return []
    day = now().date()
    values = [{**row, "state": EntryState.PUBLISHED.value, "state_changed_on": day} for row in rows]
    result = connection.execute(
        insert(entries).returning(entries.c.id, sort_by_parameter_order=True), values
    )
    ids = [row.id for row in result]
    append_changes(connection, [(entry_id, EntryState.PUBLISHED) for entry_id in ids])
    return ids


def append_changes(connection: Connection, events: Sequence[tuple[int, EntryState]]) -> None:
    """Append change events with the next gapless sequence numbers (see module doc)."""
    connection.execute(
        update(feed_head)
        .where(feed_head.c.id == 1)
        .values(last_seq=feed_head.c.last_seq + len(events))
    )
    last = connection.execute(select(feed_head.c.last_seq).where(feed_head.c.id == 1)).scalar_one()
    first, at = last - len(events) + 1, now()
    connection.execute(
        insert(changes),
        [
            {"seq": first + n, "entry_id": entry_id, "kind": kind.value, "occurred_at": at}
            for n, (entry_id, kind) in enumerate(events)
        ],
    )


def entry_by_id(connection: Connection, entry_id: int) -> ListEntry | None:
    """The entry with this id, in any state."""
    row = connection.execute(_select_entries().where(entries.c.id == entry_id)).first()
    return _entry(row) if row is not None else None


def update_entry(
    connection: Connection,
    entry_id: int,
    state: EntryState,
    reason: str,
    on: datetime.date,
    values: dict[str, Any],
) -> None:
    """Change an entry's columns and state (as of ``on``), and append the change event."""
    connection.execute(
        update(entries)
        .where(entries.c.id == entry_id)
        .values(**values, state=state.value, state_reason=reason, state_changed_on=on)
    )
    append_changes(connection, [(entry_id, state)])


def entries_in_force(connection: Connection, indexes: Sequence[str]) -> list[ListEntry]:
    """The entries in force of the subjects with these blind indexes (one indexed query)."""
    if not indexes:
        return []
    query = _select_entries().where(entries.c.subject_index.in_(indexes), IN_FORCE)
    return [_entry(row) for row in connection.execute(query.order_by(entries.c.id))]


def changes_after(
    connection: Connection, after: int, limit: int
) -> list[tuple[int, EntryState, datetime.datetime, ListEntry]]:
    """Up to ``limit`` change events after ``after``, each with its entry as it is now."""
    query = (
        select(changes.c.seq, changes.c.kind, changes.c.occurred_at, *_ENTRY_COLUMNS)
        .join(entries, entries.c.id == changes.c.entry_id)
        .join(courts, courts.c.id == entries.c.court_id)
        .where(changes.c.seq > after)
        .order_by(changes.c.seq)
        .limit(limit)
    )
    return [
        (row.seq, EntryState.of(row.kind), _utc(row.occurred_at), _entry(row))
        for row in connection.execute(query)
    ]


def _utc(moment: datetime.datetime) -> datetime.datetime:
    # SQLite keeps no time zone; every time the list writes is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def last_seq(connection: Connection) -> int:
    """The sequence number of the latest change (0 for none)."""
    value: int = connection.execute(
        select(feed_head.c.last_seq).where(feed_head.c.id == 1)
    ).scalar_one()
    return value


def public_page(
    connection: Connection, name: str | None, court_id: str | None, after: int, limit: int
) -> list[ListEntry]:
    """Entries in force, in id order after ``after``, optionally by name and court."""
    conditions = [IN_FORCE, entries.c.id > after]
    if name:
        conditions.append(entries.c.name == name)
    if court_id:
        conditions.append(entries.c.court_id == court_id)
    query = _select_entries().where(and_(*conditions)).order_by(entries.c.id).limit(limit)
    return [_entry(row) for row in connection.execute(query)]


def insert_sanction(
    connection: Connection, values: dict[str, Any]
) -> tuple[int, datetime.datetime]:
    """Record a sanction report; returns its id and reception time."""
    at = now()
    result = connection.execute(
        insert(sanctions).values(**values, reported_at=at).returning(sanctions.c.id)
    )
    return result.scalar_one(), at


def record_lookup(
    connection: Connection, agency_id: str, client_id: str, subjects: int, listed: int
) -> None:
    """Count one look-up for oversight."""
    connection.execute(
        insert(lookups).values(
            agency_id=agency_id,
            client_id=client_id,
            looked_up_on=now().date(),
            subjects=subjects,
            listed=listed,
        )
    )


def sanction_counts(
    connection: Connection, start: datetime.date, end: datetime.date
) -> list[tuple[str, Measure, Outcome, int]]:
    """Sanctions applied between ``start`` and ``end`` (inclusive), per agency, measure, outcome."""
    query = (
        select(sanctions.c.agency_id, sanctions.c.measure, sanctions.c.outcome, func.count())
        .where(sanctions.c.applied_on.between(start, end))
        .group_by(sanctions.c.agency_id, sanctions.c.measure, sanctions.c.outcome)
    )
    return [(a, Measure.of(m), Outcome.of(o), n) for a, m, o, n in connection.execute(query)]


def lookup_counts(
    connection: Connection, start: datetime.date, end: datetime.date
) -> dict[str, tuple[int, int]]:
    """Per agency, look-up requests and subjects looked up between ``start`` and ``end``."""
    query = (
        select(lookups.c.agency_id, func.count(), func.coalesce(func.sum(lookups.c.subjects), 0))
        .where(lookups.c.looked_up_on.between(start, end))
        .group_by(lookups.c.agency_id)
    )
    return {agency: (int(n), int(total)) for agency, n, total in connection.execute(query)}
