"""The GraphQL types of the dishonest-debtor list (the resolvers are in schema.py)."""

from __future__ import annotations

import datetime

import strawberry

from gateway.credit_list.entries import (
    AssociateRole,
    Circumstance,
    EntryState,
    ListEntry,
    Performance,
    RemovalKind,
    Sex,
)
from gateway.credit_list.sanctions import Measure, Outcome
from gateway.credit_list.terms import removal_due_on
from gateway.schema.subject import SubjectInput

# The domain enums are the GraphQL enums (members by NAME, values stored as snake_case).
strawberry.enum(Circumstance, name="DishonestCircumstance")
strawberry.enum(Performance, name="PerformanceStatus")
strawberry.enum(Sex, name="Sex")
strawberry.enum(EntryState, name="DishonestEntryState")
strawberry.enum(Measure, name="SanctionMeasure")
strawberry.enum(Outcome, name="SanctionOutcome")
strawberry.enum(RemovalKind, name="DishonestRemovalKind")
strawberry.enum(AssociateRole, name="AssociateRole")


@strawberry.type(description="What every view of an entry shows.")
class EntryFields:
    id: strawberry.ID
    id_type: str = strawberry.field(description="resident_id or uscc")
    name: str
    sex: Sex | None
    age: int | None
    legal_representative: str | None
    case_number: str
    court_id: str
    court_name: str
    filed_on: datetime.date
    basis_issuer: str = strawberry.field(description="执行依据制作单位")
    basis_number: str = strawberry.field(description="执行依据文号")
    obligations: str
    performance: Performance
    performed_part: str | None
    circumstance: Circumstance = strawberry.field(
        description="The first of `circumstances` (kept for clients of the first API)."
    )
    circumstances: list[Circumstance] = strawberry.field(
        description="Every circumstance of dishonesty the court found (art. 1)."
    )
    published_on: datetime.date
    state: EntryState
    state_reason: str | None
    state_changed_on: datetime.date | None
    term_years: int | None = strawberry.field(
        description="The listing term (art. 2): 2 years; null for circumstance (1), which "
        "lasts until the obligations are performed."
    )
    extended_years: int = strawberry.field(description="Years added to the term (1-3, art. 2).")
    expires_on: datetime.date | None = strawberry.field(
        description="The first day the entry is no longer in force; null without a term."
    )
    removal_due_on: datetime.date | None = strawberry.field(
        description="Three working days after expiry (art. 10; Monday-Friday, no holidays)."
    )
    removal_kind: RemovalKind | None = strawberry.field(
        description="Why a removed entry left the list."
    )
    replaced_by: strawberry.ID | None = strawberry.field(
        description="The entry published in place of this one when its identity was corrected."
    )


@strawberry.type(description="A person of a listed organisation whom the restrictions reach.")
class AssociatedPerson:
    role: AssociateRole
    name: str
    id_number: str = strawberry.field(description="Resident ID number, in full.")


@strawberry.type(description="A list entry with the full ID number (court side and agency feed).")
class DishonestEntry(EntryFields):
    id_number: str
    associates: list[AssociatedPerson]


@strawberry.type(description="A list entry as the public sees it: ID number masked.")
class PublicDishonestEntry(EntryFields):
    id_number_masked: str


def entry_fields(entry: ListEntry) -> dict[str, object]:
    """The shared field values of ``entry`` for the types above."""
    return {
        "id": strawberry.ID(str(entry.id)),
        "id_type": entry.id_type,
        "name": entry.name,
        "sex": entry.sex,
        "age": entry.age,
        "legal_representative": entry.legal_representative,
        "case_number": entry.case_number,
        "court_id": entry.court_id,
        "court_name": entry.court_name,
        "filed_on": entry.filed_on,
        "basis_issuer": entry.basis_issuer,
        "basis_number": entry.basis_number,
        "obligations": entry.obligations,
        "performance": entry.performance,
        "performed_part": entry.performed_part,
        "circumstance": entry.circumstance,
        "circumstances": list(entry.circumstances),
        "published_on": entry.published_on,
        "state": entry.state,
        "state_reason": entry.state_reason,
        "state_changed_on": entry.state_changed_on,
        "term_years": entry.term_years,
        "extended_years": entry.extended_years,
        "expires_on": entry.expires_on,
        "removal_due_on": removal_due_on(entry.expires_on),
        "removal_kind": entry.removal_kind,
        "replaced_by": strawberry.ID(str(entry.replaced_by)) if entry.replaced_by else None,
    }


@strawberry.type(description="One case a looked-up subject is listed in.")
class ListedCase:
    entry_id: strawberry.ID
    case_number: str
    court_id: str
    court_name: str
    circumstance: Circumstance
    circumstances: list[Circumstance]
    published_on: datetime.date
    expires_on: datetime.date | None
    state: EntryState


@strawberry.type(
    description="A listed organisation's entry naming the looked-up person as an associate: "
    "the restrictions reach them in that role."
)
class AssociatedListing:
    role: AssociateRole
    entry_id: strawberry.ID
    debtor_name: str
    debtor_credit_code: str = strawberry.field(description="The organisation's USCC, in full.")
    case_number: str
    court_id: str
    court_name: str
    circumstances: list[Circumstance]
    published_on: datetime.date
    expires_on: datetime.date | None
    state: EntryState


@strawberry.type(description="A subject as it was looked up, normalised.")
class LookedUpSubject:
    id_type: str
    id_number: str
    name: str | None


@strawberry.type(description="Whether one subject is on the list, and in which cases.")
class DishonestStatus:
    subject: LookedUpSubject
    listed: bool = strawberry.field(description="Whether the subject is a listed debtor.")
    entries: list[ListedCase]
    associated_entries: list[AssociatedListing] = strawberry.field(
        description="Entries of listed organisations naming this person "
        "(legal representative, principal officer, actual controller, directly responsible)."
    )
    restricted: bool = strawberry.field(
        description="Listed, or named by a listed organisation: restrictions apply either way."
    )


@strawberry.type(description="One event of the change feed.")
class DishonestListChange:
    cursor: str
    kind: EntryState = strawberry.field(description="The state the event put the entry in.")
    occurred_at: datetime.datetime
    entry: DishonestEntry = strawberry.field(
        description="The entry as it stands now; apply events in order, the last one wins."
    )


@strawberry.type
class DishonestListChangePage:
    changes: list[DishonestListChange]
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page (unchanged when there was nothing new)."
    )
    has_next_page: bool


@strawberry.type
class PublicDishonestListPage:
    entries: list[PublicDishonestEntry]
    end_cursor: str | None
    has_next_page: bool


@strawberry.type(description="A sanction an agency reported.")
class Sanction:
    id: strawberry.ID
    entry_id: strawberry.ID
    agency_id: str
    measure: Measure
    outcome: Outcome
    applied_on: datetime.date
    note: str | None
    reported_at: datetime.datetime
    measure_detail: str | None = strawberry.field(description="What an OTHER measure was.")


@strawberry.type
class MeasureCount:
    measure: Measure
    sanctions: int = strawberry.field(description="Reports of every outcome.")
    applied: int
    not_applied: int
    lifted: int


@strawberry.type(description="One agency's figures over the period.")
class AgencySanctionSummary:
    agency_id: str
    lookup_requests: int
    subjects_looked_up: int
    sanctions_reported: int
    measures: list[MeasureCount]


@strawberry.type
class SanctionSummary:
    start: datetime.date = strawberry.field(name="from")
    end: datetime.date = strawberry.field(name="to")
    agencies: list[AgencySanctionSummary]


@strawberry.input(description="A list entry as the court submits it; the court is the caller's.")
class DishonestEntryInput:
    subject: SubjectInput = strawberry.field(description="The debtor; its name is required.")
    sex: Sex | None = None
    age: int | None = None
    legal_representative: str | None = None
    case_number: str
    filed_on: datetime.date
    basis_issuer: str
    basis_number: str
    obligations: str
    performance: Performance
    performed_part: str | None = None
    circumstance: Circumstance | None = strawberry.field(
        default=None, description="One circumstance (or use `circumstances`)."
    )
    circumstances: list[Circumstance] | None = strawberry.field(
        default=None, description="Every circumstance found (art. 1); at least one in all."
    )
    published_on: datetime.date | None = None
    associates: list[AssociatedPersonInput] | None = strawberry.field(
        default=None,
        description="An organisation's people the restrictions reach, each with their own ID.",
    )


@strawberry.input(description="A person of a listed organisation, by resident ID.")
class AssociatedPersonInput:
    role: AssociateRole
    resident_id: str
    name: str
