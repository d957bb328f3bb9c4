"""What the list does: publish, correct and remove; look up; follow; report; oversee.

Who may do what is decided here, once, from the principal: scopes are checked
by the schema, but "an admin of the entry's court" and "the agency in the
token" are facts of the list and are enforced next to the data they protect.
All methods are synchronous (one short transaction each); resolvers run them
with ``run_sync``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from connectors.subject import Subject
from gateway.auth.principal import Principal, Role
from gateway.credit_list import store
from gateway.credit_list.entries import (
    AssociateRole,
    EntryDraft,
    EntryState,
    ListEntry,
    RemovalKind,
    StoredAssociate,
)
from gateway.credit_list.errors import DuplicateEntry, EntryRemoved, NotExtendable, UnknownCourt
from gateway.credit_list.sanctions import AgencyFigures, Measure, Outcome, SanctionReport
from gateway.credit_list.sealing import SubjectSealer
from gateway.credit_list.terms import MAX_EXTENSION_YEARS, expires_on, may_be_extended
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
class Association:
    """An entry in force naming a looked-up person as one of its associates."""

    role: AssociateRole
    entry: ListEntry


@dataclass(frozen=True, slots=True)
class SubjectStatus:
    """What the list says about one looked-up subject."""

    entries: list[ListEntry]
    associations: list[Association]


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

    def __init__(
        self,
        engine: Engine,
        sealer: SubjectSealer,
        today: Callable[[], datetime.date] | None = None,
    ) -> None:
        self.engine = engine
        self.sealer = sealer
        #: The list's calendar (UTC today); terms and removal dates are checked against it.
        self.today = today or _today

    @classmethod
    def from_keys(cls, engine: Engine, keys: KeySet) -> CreditList:
        """The list over ``engine``, sealing identifiers with the gateway's keys."""
        return cls(engine, SubjectSealer(keys.blind_index_key, keys.subject_encryption_key))

    def reveal(self, entry: ListEntry) -> str:
        """The entry's identifier in full (for its court and the agencies' feed)."""
        return self.sealer.open(entry.id_ciphertext, entry.subject_index)

    def reveal_associate(self, associate: StoredAssociate) -> str:
        """An associated person's resident ID in full."""
        return self.sealer.open(associate.id_ciphertext, associate.subject_index)

    def _row(self, draft: EntryDraft, extended_years: int = 0) -> store.EntryRow:
        sealed = self.sealer.seal(draft.subject)
        people = [self.sealer.seal(associate.subject) for associate in draft.associates]
        return store.entry_row(draft, sealed, people, extended_years=extended_years)

    def publish(self, principal: Principal, draft: EntryDraft) -> ListEntry:
        """Put a debtor on the list for the caller's court.

        Raises:
            Forbidden: the caller is not an admin of the draft's court.
            UnknownCourt: the court is not registered.
            DuplicateEntry: the debtor is already listed in that case.
        """
        if court_of(principal) != draft.court_id:
            raise Forbidden("Entries are published by the court of the case.")
        row = self._row(draft)
        index = row.values["subject_index"]
        try:
            with self.engine.begin() as connection:
                if draft.court_id not in store.court_ids(connection):
                    raise UnknownCourt(draft.court_id)
                if (index, draft.case_number) in store.listed_pairs(connection, [index]):
                    raise DuplicateEntry(draft.case_number)
                [entry_id] = store.insert_entries(connection, [row])
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

        A correction of who is listed (the debtor's or an associate's ID number)
        is not an edit: the entry as published is removed (``IDENTITY_CORRECTED``),
        so the feed carries a removal naming the wrong ID, and the corrected entry
        is published anew with the same dates and extension. Agencies keyed by ID
        then lift their measures on the person who was never a debtor.

        Returns:
            The corrected entry (a new one when the identity changed).

        Raises:
            NotFound, Forbidden, EntryRemoved, DuplicateEntry.
        """
        try:
            with self.engine.begin() as connection:
                current = self._own_entry(connection, principal, entry_id)
                if draft.court_id != current.court_id:
                    raise Forbidden("An entry cannot be moved to another court.")
                row = self._row(draft, current.extended_years)
                index = row.values["subject_index"]
                pair = (index, draft.case_number)
                if pair != (current.subject_index, current.case_number) and pair in (
                    store.listed_pairs(connection, [index])
                ):
                    raise DuplicateEntry(draft.case_number)
                if _identity(current) != _new_identity(row):
                    new_id = self._replace(connection, current, row, reason)
                else:
                    store.update_entry(
                        connection,
                        entry_id,
                        EntryState.CORRECTED,
                        reason,
                        self.today(),
                        row.values,
                        row.associates,
                    )
                    new_id = entry_id
                entry = store.entry_by_id(connection, new_id)
        except IntegrityError:
            raise DuplicateEntry(draft.case_number) from None
        assert entry is not None  # noqa: S101 - read in this transaction
        return entry

    def _replace(
        self, connection: Connection, current: ListEntry, row: store.EntryRow, reason: str
    ) -> int:
        values = {"removal_kind": RemovalKind.IDENTITY_CORRECTED.value}
        store.update_entry(connection, current.id, EntryState.REMOVED, reason, self.today(), values)
        [new_id] = store.insert_entries(connection, [row])
        store.set_replaced_by(connection, current.id, new_id)
        return new_id

    def remove(
        self,
        principal: Principal,
        entry_id: int,
        kind: RemovalKind,
        reason: str,
        removed_on: datetime.date,
    ) -> ListEntry:
        """Take an entry off the list; agencies learn it from the feed.

        Raises:
            NotFound, Forbidden, EntryRemoved.
            BadUserInput: the date is before publication or in the future, or the
                kind is EXPIRED before the term ended, or IDENTITY_CORRECTED
                (only a correction removes an entry that way).
        """
        if kind is RemovalKind.IDENTITY_CORRECTED:
            raise BadUserInput("An identity is corrected with correctDishonestEntry.", field="kind")
        with self.engine.begin() as connection:
            entry = self._own_entry(connection, principal, entry_id)
            _check_removed_on(entry, kind, removed_on, self.today())
            values = {"removal_kind": kind.value}
            store.update_entry(connection, entry_id, EntryState.REMOVED, reason, removed_on, values)
            removed = store.entry_by_id(connection, entry_id)
        assert removed is not None  # noqa: S101 - read in this transaction
        return removed

    def extend(self, principal: Principal, entry_id: int, years: int, reason: str) -> ListEntry:
        """Extend an entry's term by ``years`` (art. 2: one to three years in all).

        Raises:
            NotFound, Forbidden, EntryRemoved.
            NotExtendable: no term, not a ground for extension, or over three years.
        """
        if not 1 <= years <= MAX_EXTENSION_YEARS:
            raise BadUserInput(f"years must be between 1 and {MAX_EXTENSION_YEARS}.", field="years")
        today = self.today()
        with self.engine.begin() as connection:
            entry = self._own_entry(connection, principal, entry_id)
            _check_extension(entry, years, today)
            total = entry.extended_years + years
            values = {
                "extended_years": total,
                "expires_on": expires_on(entry.published_on, entry.term_years, total),
            }
            store.update_entry(connection, entry_id, EntryState.EXTENDED, reason, today, values)
            extended = store.entry_by_id(connection, entry_id)
        assert extended is not None  # noqa: S101 - read in this transaction
        return extended

    def expired(self, limit: int) -> list[ListEntry]:
        """Entries in force whose term is over (for the expiry sweep)."""
        with read_connection(self.engine) as connection:
            return store.expired_in_force(connection, self.today(), limit)

    def remove_expired(self, entry: ListEntry) -> bool:
        """Remove an expired entry as of its expiry date; ``False`` if already off the list."""
        assert entry.expires_on is not None  # noqa: S101 - only expired entries come here
        values = {"removal_kind": RemovalKind.EXPIRED.value}
        reason = "失信期限届满，自动删除"
        with self.engine.begin() as connection:
            return store.update_entry(
                connection, entry.id, EntryState.REMOVED, reason, entry.expires_on, values
            )

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

    def status(self, principal: Principal, subjects: Sequence[Subject]) -> list[SubjectStatus]:
        """Each subject's entries in force, as debtor and as associate; counted for oversight."""
        indexes = [self.sealer.index(s.id_type, s.id_number) for s in subjects]
        found: dict[str, SubjectStatus] = {index: SubjectStatus([], []) for index in indexes}
        people = sorted(
            {i for s, i in zip(subjects, indexes, strict=True) if s.id_type == "resident_id"}
        )
        with self.engine.begin() as connection:
            for entry in store.entries_in_force(connection, sorted(found)):
                found[entry.subject_index].entries.append(entry)
            for index, role, entry in store.entries_by_associate(connection, people):
                found[index].associations.append(Association(role, entry))
            listed = sum(1 for index in indexes if found[index].entries)
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
        detail: str | None = None,
    ) -> SanctionReport:
        """Record a measure the caller's agency applied, did not apply, or lifted.

        A measure is applied or refused while the entry is in force (a late report
        of one applied before the removal is accepted); it is lifted at any time,
        and above all after the removal.

        Raises:
            Forbidden: the caller is not an agency.
            NotFound: no such entry.
            EntryRemoved: applied after the entry was removed (it must be lifted).
            BadUserInput: dated before publication or in the future; OTHER without
                its description.
        """
        if principal.agency_id is None:
            raise Forbidden("Sanctions are reported by agency clients.")
        if measure is Measure.OTHER and not detail:
            raise BadUserInput("An OTHER measure needs its description.", field="measureDetail")
        with self.engine.begin() as connection:
            entry = store.entry_by_id(connection, entry_id)
            if entry is None:
                raise NotFound(f"No list entry {entry_id}.")
            _check_applied_on(entry, applied_on, self.today())
            if (
                not entry.on_list
                and outcome is not Outcome.LIFTED
                and entry.state_changed_on is not None
                and applied_on >= entry.state_changed_on
            ):
                raise EntryRemoved(entry_id)
            values = {
                "entry_id": entry_id,
                "agency_id": principal.agency_id,
                "client_id": principal.client_id,
                "measure": measure.value,
                "measure_detail": detail,
                "outcome": outcome.value,
                "applied_on": applied_on,
                "note": note,
            }
            report_id, at = store.insert_sanction(connection, values)
        return SanctionReport(
            report_id, entry_id, principal.agency_id, measure, outcome, applied_on, note, at, detail
        )

    def summary(self, start: datetime.date, end: datetime.date) -> list[AgencyFigures]:
        """Per agency: look-ups made and sanctions reported per measure, in a period."""
        with self.engine.begin() as connection:
            sanctions = store.sanction_counts(connection, start, end)
            lookups = store.lookup_counts(connection, start, end)
        per_agency: dict[str, dict[Measure, int]] = {agency: {} for agency in lookups}
        outcomes: dict[str, dict[Measure, dict[Outcome, int]]] = {}
        for agency, measure, outcome, count in sanctions:
            counts = per_agency.setdefault(agency, {})
            counts[measure] = counts.get(measure, 0) + count
            by_outcome = outcomes.setdefault(agency, {}).setdefault(measure, {})
            by_outcome[outcome] = by_outcome.get(outcome, 0) + count
        return [
            AgencyFigures(
                agency, *lookups.get(agency, (0, 0)), per_agency[agency], outcomes.get(agency, {})
            )
            for agency in sorted(per_agency)
        ]

    def public(
        self, name: str | None, court_id: str | None, after: int, first: int
    ) -> list[ListEntry]:
        """Entries in force for the public list, ``first`` + 1 to tell if more follow."""
        with self.engine.begin() as connection:
            return store.public_page(connection, name, court_id, after, first + 1)


def _check_applied_on(entry: ListEntry, applied_on: datetime.date, today: datetime.date) -> None:
    if not entry.published_on <= applied_on <= today:
        raise BadUserInput(
            "appliedOn must be between the publication date and today.", field="appliedOn"
        )


def _check_removed_on(
    entry: ListEntry, kind: RemovalKind, removed_on: datetime.date, today: datetime.date
) -> None:
    if not entry.published_on <= removed_on <= today:
        raise BadUserInput(
            "removedOn must be between the publication date and today.", field="removedOn"
        )
    if kind is RemovalKind.EXPIRED and (entry.expires_on is None or removed_on < entry.expires_on):
        ends = entry.expires_on.isoformat() if entry.expires_on else "never (no term)"
        raise BadUserInput(f"The entry's term ends {ends}: it has not expired.", field="kind")


def _check_extension(entry: ListEntry, years: int, today: datetime.date) -> None:
    if entry.term_years is None or entry.expires_on is None:
        raise NotExtendable("The entry has no term (circumstance (1) lasts until performed).")
    if not may_be_extended(entry.circumstances):
        raise NotExtendable(
            "Only serious obstruction of enforcement or several circumstances of "
            "dishonesty extend a term (art. 2)."
        )
    if entry.expires_on <= today:
        raise NotExtendable("The entry's term is over: it must be removed, not extended.")
    if entry.extended_years + years > MAX_EXTENSION_YEARS:
        raise NotExtendable(
            f"A term is extended by {MAX_EXTENSION_YEARS} years at most; "
            f"{entry.extended_years} already granted."
        )


def _identity(entry: ListEntry) -> tuple[str, frozenset[str]]:
    return entry.subject_index, frozenset(a.subject_index for a in entry.associates)


def _new_identity(row: store.EntryRow) -> tuple[str, frozenset[str]]:
    people = frozenset(str(person["subject_index"]) for person in row.associates)
    return str(row.values["subject_index"]), people


def _today() -> datetime.date:
    return store.now().date()
