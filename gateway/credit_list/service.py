"""What the list does: publish, correct and remove; look up; follow; report; oversee.

Who may do what is decided here, once, from the principal: scopes are checked
by the schema, but "an admin of the entry's court" and "the agency in the
token" are facts of the list and are enforced next to the data they protect.
All methods are synchronous (one short transaction each); resolvers run them
with ``run_sync``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from connectors.subject import Subject
from gateway.auth.principal import Principal, Role
from gateway.credit_list import store
from gateway.credit_list.entries import EntryDraft, EntryState, ListEntry
from gateway.credit_list.errors import DuplicateEntry, EntryRemoved, UnknownCourt
from gateway.credit_list.sanctions import AgencyFigures, Measure, Outcome, SanctionReport
from gateway.credit_list.sealing import SubjectSealer
from gateway.db import read_connection
from gateway.errors import BadUserInput, Forbidden, NotFound
from gateway.keys import KeySet

MAX_LOOKUP = 1000
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Change:
    """One event of the change feed, with its entry as it stands now."""

    seq: int
    kind: EntryState
    occurred_at: datetime.datetime
    entry: ListEntry
    id_number: str


@dataclass(frozen=True, slots=True)
class ChangePage:
    """A page of the feed; ``last_seq`` is the newest change when it was read."""

    changes: list[Change]
    last_seq: int


def court_of(principal: Principal) -> str:
    """The court a principal administers the list of.

    Raises:
        Forbidden: the caller is not a court administrator.
    """
    if principal.role is not Role.ADMIN or not principal.court_id:
        raise Forbidden("Only a court's administrator may publish, correct or remove entries.")
    return principal.court_id


def agency_of(principal: Principal) -> str:
    """The agency (or, failing that, the client) a look-up or report is counted for."""
    return principal.agency_id or principal.client_id


class CreditList:
    """The dishonest-debtor list over its store."""

    def __init__(self, engine: Engine, sealer: SubjectSealer) -> None:
        self.engine = engine
        self.sealer = sealer

    @classmethod
    def from_keys(cls, engine: Engine, keys: KeySet) -> CreditList:
        """The list over ``engine``, sealing identifiers with the gateway's keys."""
        return cls(engine, SubjectSealer(keys.blind_index_key, keys.subject_encryption_key))

    def reveal(self, entry: ListEntry) -> str:
        """The entry's identifier in full (for its court and the agencies' feed)."""
        return self.sealer.open(entry.id_ciphertext, entry.subject_index)

    def publish(self, principal: Principal, draft: EntryDraft) -> ListEntry:
        """Put a debtor on the list for the caller's court.

        Raises:
            Forbidden: the caller is not an admin of the draft's court.
            UnknownCourt: the court is not registered.
            DuplicateEntry: the debtor is already listed in that case.
        """
        if court_of(principal) != draft.court_id:
            raise Forbidden("Entries are published by the court of the case.")
        sealed = self.sealer.seal(draft.subject)
        try:
            with self.engine.begin() as connection:
                if draft.court_id not in store.court_ids(connection):
                    raise UnknownCourt(draft.court_id)
                if (sealed.index, draft.case_number) in store.listed_pairs(
                    connection, [sealed.index]
                ):
                    raise DuplicateEntry(draft.case_number)
                [entry_id] = store.insert_entries(connection, [store.entry_values(draft, sealed)])
                entry = store.entry_by_id(connection, entry_id)
        except IntegrityError:
            # A concurrent publication of the same pair won the unique index.
            raise DuplicateEntry(draft.case_number) from None
        assert entry is not None  # noqa: S101 - just inserted in this transaction
        return entry

    def correct(
        self, principal: Principal, entry_id: int, draft: EntryDraft, reason: str
    ) -> ListEntry:
        """Replace an entry's content with a corrected one (same court).

        Raises:
            NotFound, Forbidden, EntryRemoved, DuplicateEntry.
        """
        sealed = self.sealer.seal(draft.subject)
        try:
            with self.engine.begin() as connection:
                current = self._own_entry(connection, principal, entry_id)
                if draft.court_id != current.court_id:
                    raise Forbidden("An entry cannot be moved to another court.")
                pair = (sealed.index, draft.case_number)
                if pair != (current.subject_index, current.case_number) and pair in (
                    store.listed_pairs(connection, [sealed.index])
                ):
                    raise DuplicateEntry(draft.case_number)
                values = store.entry_values(draft, sealed)
                store.update_entry(
                    connection, entry_id, EntryState.CORRECTED, reason, _today(), values
                )
                entry = store.entry_by_id(connection, entry_id)
        except IntegrityError:
            raise DuplicateEntry(draft.case_number) from None
        assert entry is not None  # noqa: S101 - read in this transaction
        return entry

    def remove(
        self, principal: Principal, entry_id: int, reason: str, removed_on: datetime.date
    ) -> ListEntry:
        """Take an entry off the list; agencies learn it from the feed.

        Raises:
            NotFound, Forbidden, EntryRemoved.
        """
        with self.engine.begin() as connection:
            self._own_entry(connection, principal, entry_id)
            store.update_entry(connection, entry_id, EntryState.REMOVED, reason, removed_on, {})
            entry = store.entry_by_id(connection, entry_id)
        assert entry is not None  # noqa: S101 - read in this transaction
        return entry

    def _own_entry(self, connection: Connection, principal: Principal, entry_id: int) -> ListEntry:
        court = court_of(principal)
        entry = store.entry_by_id(connection, entry_id)
        if entry is None:
            raise NotFound(f"No list entry {entry_id}.")
        if entry.court_id != court:
            raise Forbidden(f"Entry {entry_id} was published by another court.")
        if not entry.on_list:
            raise EntryRemoved(entry_id)
        return entry

    def status(self, principal: Principal, subjects: Sequence[Subject]) -> list[list[ListEntry]]:
        """The entries in force of each subject, in order; counted for oversight."""
        indexes = [self.sealer.index(s.id_type, s.id_number) for s in subjects]
        found: dict[str, list[ListEntry]] = {index: [] for index in indexes}
        with self.engine.begin() as connection:
            for entry in store.entries_in_force(connection, sorted(found)):
                found[entry.subject_index].append(entry)
            listed = sum(1 for index in indexes if found[index])
            store.record_lookup(
                connection, agency_of(principal), principal.client_id, len(subjects), listed
            )
        return [found[index] for index in indexes]

    def changes(self, after: int, first: int) -> ChangePage:
        """Up to ``first`` change events after sequence number ``after``."""
        with read_connection(self.engine) as connection:
            rows = store.changes_after(connection, after, first)
            head = store.last_seq(connection)
        changes = [
            Change(seq, kind, at, entry, self.reveal(entry)) for seq, kind, at, entry in rows
        ]
        return ChangePage(changes, head)

    def report_sanction(
        self,
        principal: Principal,
        entry_id: int,
        measure: Measure,
        outcome: Outcome,
        applied_on: datetime.date,
        note: str | None,
    ) -> SanctionReport:
        """Record a sanction the caller's agency applied on an entry in force.

        Raises:
            Forbidden: the caller is not an agency.
            NotFound: no such entry.
            EntryRemoved: the entry was removed (the measure must be lifted instead).
            BadUserInput: applied before the entry was published, or in the future.
        """
        if principal.agency_id is None:
            raise Forbidden("Sanctions are reported by agency clients.")
        with self.engine.begin() as connection:
            entry = store.entry_by_id(connection, entry_id)
            if entry is None:
                raise NotFound(f"No list entry {entry_id}.")
            if not entry.on_list:
                raise EntryRemoved(entry_id)
            _check_applied_on(entry, applied_on)
            values = {
                "entry_id": entry_id,
                "agency_id": principal.agency_id,
                "client_id": principal.client_id,
                "measure": measure.value,
                "outcome": outcome.value,
                "applied_on": applied_on,
                "note": note,
            }
            report_id, at = store.insert_sanction(connection, values)
        return SanctionReport(
            report_id, entry_id, principal.agency_id, measure, outcome, applied_on, note, at
        )

    def summary(self, start: datetime.date, end: datetime.date) -> list[AgencyFigures]:
        """Per agency: look-ups made and sanctions reported per measure, in a period."""
        with self.engine.begin() as connection:
            sanctions = store.sanction_counts(connection, start, end)
            lookups = store.lookup_counts(connection, start, end)
        per_agency: dict[str, dict[Measure, int]] = {agency: {} for agency in lookups}
        for agency, measure, _outcome, count in sanctions:
            counts = per_agency.setdefault(agency, {})
            counts[measure] = counts.get(measure, 0) + count
        return [
            AgencyFigures(agency, *lookups.get(agency, (0, 0)), per_agency[agency])
            for agency in sorted(per_agency)
        ]

    def public(
        self, name: str | None, court_id: str | None, after: int, first: int
    ) -> list[ListEntry]:
        """Entries in force for the public list, ``first`` + 1 to tell if more follow."""
        with self.engine.begin() as connection:
            return store.public_page(connection, name, court_id, after, first + 1)


def _check_applied_on(entry: ListEntry, applied_on: datetime.date) -> None:
    if not entry.published_on <= applied_on <= _today():
        raise BadUserInput(
            "appliedOn must be between the publication date and today.", field="appliedOn"
        )


def _today() -> datetime.date:
    return store.now().date()
