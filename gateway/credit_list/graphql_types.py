"""The GraphQL types of the dishonest-debtor list (the resolvers are in schema.py)."""

from __future__ import annotations

import datetime

import strawberry

from gateway.credit_list.entries import Circumstance, EntryState, ListEntry, Performance, Sex
from gateway.credit_list.sanctions import Measure, Outcome
from gateway.schema.subject import SubjectInput

# The domain enums are the GraphQL enums (members by NAME, values stored as snake_case).
strawberry.enum(Circumstance, name="DishonestCircumstance")
strawberry.enum(Performance, name="PerformanceStatus")
strawberry.enum(Sex, name="Sex")
strawberry.enum(EntryState, name="DishonestEntryState")
strawberry.enum(Measure, name="SanctionMeasure")
strawberry.enum(Outcome, name="SanctionOutcome")


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
    circumstance: Circumstance
    published_on: datetime.date
    state: EntryState
    state_reason: str | None
    state_changed_on: datetime.date | None


@strawberry.type(description="A list entry with the full ID number (court side and agency feed).")
class DishonestEntry(EntryFields):
    id_number: str


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
        "published_on": entry.published_on,
        "state": entry.state,
        "state_reason": entry.state_reason,
        "state_changed_on": entry.state_changed_on,
    }


@strawberry.type(description="One case a looked-up subject is listed in.")
class ListedCase:
    entry_id: strawberry.ID
    case_number: str
    court_id: str
    court_name: str
    circumstance: Circumstance
    published_on: datetime.date
    state: EntryState


@strawberry.type(description="A subject as it was looked up, normalised.")
class LookedUpSubject:
    id_type: str
    id_number: str
    name: str | None


@strawberry.type(description="Whether one subject is on the list, and in which cases.")
class DishonestStatus:
    subject: LookedUpSubject
    listed: bool
    entries: list[ListedCase]


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


@strawberry.type
class MeasureCount:
    measure: Measure
    sanctions: int


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
    circumstance: Circumstance
    published_on: datetime.date | None = None
