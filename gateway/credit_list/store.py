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
from dataclasses import dataclass, field
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
    or_,
    select,
    text,
    update,
)

from gateway.case_store import courts
from gateway.credit_list.entries import (
    AssociateRole,
    Circumstance,
    EntryDraft,
    EntryState,
    ListEntry,
    Performance,
    RemovalKind,
    Sex,
    StoredAssociate,
)
from gateway.credit_list.sanctions import Measure, Outcome
from gateway.credit_list.sealing import SealedSubject
from gateway.credit_list.terms import expires_on
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
    # Migration 0006_list_terms: several circumstances, the term, why it was removed.
    Column("circumstances", Text),
    Column("term_years", Integer),
    Column("extended_years", Integer, nullable=False, server_default="0"),
    Column("expires_on", Date),
    Column("removal_kind", String(32)),
    Column("replaced_by", Id),
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
    Index("ix_credit_list_entries_expires_on", "expires_on"),
)

associates = Table(
    "credit_list_associates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("entry_id", Id, ForeignKey("credit_list_entries.id"), nullable=False),
    Column("role", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("subject_index", String(64), nullable=False),
    Column("id_ciphertext", LargeBinary, nullable=False),
    Index("ix_credit_list_associates_subject_index", "subject_index"),
    Index("ix_credit_list_associates_entry_id", "entry_id"),
)

sweep_lease = Table(
    "credit_list_sweep_lease",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("holder", String(64)),
    Column("until", DateTime(timezone=True), nullable=False),
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
    Column("measure_detail", Text),
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


@dataclass(frozen=True, slots=True)
class EntryRow:
    """A new or corrected entry's column values and its associates' (sealed)."""

    values: dict[str, Any]
    associates: list[dict[str, Any]] = field(default_factory=list)


def entry_row(
    draft: EntryDraft,
    sealed: SealedSubject,
    associated: Sequence[SealedSubject] = (),
    *,
    extended_years: int = 0,
) -> EntryRow:
    """The rows of a new or corrected entry (state columns excluded).

    Args:
        draft: the validated entry.
        sealed: its debtor's sealed identifier.
        associated: the sealed identifiers of ``draft.associates``, in order.
        extended_years: an extension the entry already carries (corrections keep it).
    """
    values = _entry_values(draft, sealed)
    term = draft.term_years
    values |= {
        "term_years": term,
        "extended_years": extended_years,
        "expires_on": expires_on(draft.published_on, term, extended_years),
    }
    people = [
        {
            "role": associate.role.value,
            "name": associate.subject.name,
            "subject_index": seal.index,
            "id_ciphertext": seal.ciphertext,
        }
        for associate, seal in zip(draft.associates, associated, strict=True)
    ]
    return EntryRow(values, people)


def _entry_values(draft: EntryDraft, sealed: SealedSubject) -> dict[str, Any]:
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
        "circumstances": ",".join(c.value for c in draft.circumstances),
        "published_on": draft.published_on,
    }


def _entry(row: Row[Any], people: Sequence[StoredAssociate] = ()) -> ListEntry:
    stored = row.circumstances or row.circumstance
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
        circumstances=tuple(Circumstance.of(value) for value in stored.split(",")),
        published_on=row.published_on,
        state=EntryState.of(row.state),
        state_reason=row.state_reason,
        state_changed_on=row.state_changed_on,
        term_years=row.term_years,
        extended_years=row.extended_years or 0,
        expires_on=row.expires_on,
        removal_kind=RemovalKind.of(row.removal_kind) if row.removal_kind else None,
        replaced_by=row.replaced_by,
        associates=tuple(people),
    )


def _entries(connection: Connection, rows: Iterable[Row[Any]]) -> list[ListEntry]:
    """Entries of ``rows`` with their associates (one more query)."""
    rows = list(rows)
    people = associates_of(connection, [row.id for row in rows])
    return [_entry(row, people.get(row.id, ())) for row in rows]


def associates_of(
    connection: Connection, entry_ids: Sequence[int]
) -> dict[int, list[StoredAssociate]]:
    """The associates of each entry, in the order the court gave them."""
    if not entry_ids:
        return {}
    query = (
        select(associates)
        .where(associates.c.entry_id.in_(sorted(set(entry_ids))))
        .order_by(associates.c.id)
    )
    found: dict[int, list[StoredAssociate]] = {}
    for row in connection.execute(query):
        found.setdefault(row.entry_id, []).append(
            StoredAssociate(
                AssociateRole.of(row.role), row.name, row.subject_index, row.id_ciphertext
            )
        )
    return found


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


def insert_entries(connection: Connection, rows: Sequence[EntryRow]) -> list[int]:
    """Insert published entries, their associates and change events; their ids in order."""
    if not rows:
        return []
    day = now().date()
    values = [
        {**row.values, "state": EntryState.PUBLISHED.value, "state_changed_on": day} for row in rows
    ]
    result = connection.execute(
        insert(entries).returning(entries.c.id, sort_by_parameter_order=True), values
    )
    ids = [row.id for row in result]
    people = [
        {**person, "entry_id": entry_id}
        for entry_id, row in zip(ids, rows, strict=True)
        for person in row.associates
    ]
    if people:
        connection.execute(insert(associates), people)
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
    rows = _entries(
        connection, connection.execute(_select_entries().where(entries.c.id == entry_id))
    )
    return rows[0] if rows else None


def update_entry(
    connection: Connection,
    entry_id: int,
    state: EntryState,
    reason: str,
    on: datetime.date,
    values: dict[str, Any],
    people: Sequence[dict[str, Any]] | None = None,
) -> bool:
    """Change an entry in force (as of ``on``) and append the change event.

    The update names the entry only while it is in force, so of two writers
    removing the same entry (two gateways' sweeps, a court and a sweep) one
    changes it and the other finds nothing: each change is recorded once.

    Args:
        people: the entry's new associates, replacing the old; ``None`` keeps them.

    Returns:
        Whether the entry was in force and is now changed.
    """
    result = connection.execute(
        update(entries)
        .where(entries.c.id == entry_id, IN_FORCE)
        .values(**values, state=state.value, state_reason=reason, state_changed_on=on)
    )
    if result.rowcount != 1:
        return False
    if people is not None:
        connection.execute(associates.delete().where(associates.c.entry_id == entry_id))
        if people:
            connection.execute(
                insert(associates), [{**person, "entry_id": entry_id} for person in people]
            )
    append_changes(connection, [(entry_id, state)])
    return True


def entries_in_force(connection: Connection, indexes: Sequence[str]) -> list[ListEntry]:
    """The entries in force of the subjects with these blind indexes (one indexed query)."""
    if not indexes:
        return []
    query = _select_entries().where(entries.c.subject_index.in_(indexes), IN_FORCE)
    return _entries(connection, connection.execute(query.order_by(entries.c.id)))


def entries_by_associate(
    connection: Connection, indexes: Sequence[str]
) -> list[tuple[str, AssociateRole, ListEntry]]:
    """Entries in force naming one of these people as an associate, with their role."""
    if not indexes:
        return []
    query = (
        select(
            associates.c.subject_index.label("associate_index"),
            associates.c.role.label("associate_role"),
            associates.c.id.label("associate_id"),
            *_ENTRY_COLUMNS,
        )
        .join(entries, entries.c.id == associates.c.entry_id)
        .join(courts, courts.c.id == entries.c.court_id)
        .where(associates.c.subject_index.in_(indexes), IN_FORCE)
        .order_by(entries.c.id, associates.c.id)
    )
    rows = list(connection.execute(query))
    listed = {entry.id: entry for entry in _entries(connection, rows)}
    return [
        (row.associate_index, AssociateRole.of(row.associate_role), listed[row.id]) for row in rows
    ]


def expired_in_force(connection: Connection, today: datetime.date, limit: int) -> list[ListEntry]:
    """Entries still in force whose term ended on or before ``today``."""
    query = (
        _select_entries()
        .where(entries.c.expires_on <= today, IN_FORCE)
        .order_by(entries.c.expires_on, entries.c.id)
        .limit(limit)
    )
    return _entries(connection, connection.execute(query))


def take_sweep_lease(
    connection: Connection, holder: str, at: datetime.datetime, until: datetime.datetime
) -> bool:
    """Take the expiry sweep's lease unless another holder's is still running.

    One conditional update: of several gateways asking at once, one gets it.
    """
    result = connection.execute(
        update(sweep_lease)
        .where(
            sweep_lease.c.id == 1, or_(sweep_lease.c.until <= at, sweep_lease.c.holder == holder)
        )
        .values(holder=holder, until=until)
    )
    return result.rowcount == 1


def release_sweep_lease(connection: Connection, holder: str) -> None:
    """Give the lease back at once (a crashed holder's lease runs out by itself)."""
    connection.execute(
        update(sweep_lease)
        .where(sweep_lease.c.id == 1, sweep_lease.c.holder == holder)
        .values(holder=None, until=datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC))
    )


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
    rows = list(connection.execute(query))
    listed = _entries(connection, rows)
    return [
        (row.seq, EntryState.of(row.kind), _utc(row.occurred_at), entry)
        for row, entry in zip(rows, listed, strict=True)
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
    return _entries(connection, connection.execute(query))


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


def set_replaced_by(connection: Connection, entry_id: int, replacement: int) -> None:
    """Link an entry removed by an identity correction to the entry replacing it."""
    connection.execute(
        update(entries).where(entries.c.id == entry_id).values(replaced_by=replacement)
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
