"""``investigation(caseNumber, subject)``: what the agencies know of one judgment debtor.

The resolver establishes the legal authority (gateway.authority), plans from
the selection set (gateway.plan) and federates (gateway.federation); the types
below only present the shaped answer. A value the policy denies, or that an
agency could not give, resolves to ``null`` with an error saying why.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.auth import scopes
from gateway.authority import authorize_investigation
from gateway.context import RequestContext
from gateway.federation import DatasetAnswer, ShapedRecord, federate
from gateway.measures.assets import remember_investigated_assets
from gateway.plan import DatasetView, Window, view_of
from gateway.plan_cache import cached_plan
from gateway.schema.permissions import requires_scope
from gateway.schema.subject import SubjectInput

_FAILED = (
    " An agency that could not answer leaves one null in the list, with an error "
    "(extensions.code, extensions.agency) at that position."
)


@strawberry.type(description="The agency a record comes from.")
class SourceAgency:
    id: str
    name: str
    kind: str


@strawberry.type(description="The subject investigated, as named in the case.")
class InvestigatedSubject:
    resident_id: str | None
    credit_code: str | None
    name: str | None


@strawberry.type(description="An account at a bank.")
class BankAccount:
    agency: SourceAgency
    bank: str | None = None
    branch: str | None = None
    account_number: str | None = None
    account_type: str | None = strawberry.field(
        default=None, description="debit, credit, deposit or current."
    )
    status: str | None = strawberry.field(
        default=None, description="normal, frozen, dormant or closed."
    )
    currency: str | None = strawberry.field(default=None, description="ISO 4217, e.g. CNY.")
    balance: str | None = strawberry.field(
        default=None, description='In yuan, two decimals ("12345.67"); negative is debt.'
    )
    opened_on: datetime.date | None = None


@strawberry.type(description="A tax refund due or paid.")
class TaxRefund:
    agency: SourceAgency
    tax_year: int | None = None
    tax_type: str | None = None
    amount: str | None = strawberry.field(default=None, description='In yuan ("800.00").')
    refund_account: str | None = None
    refund_bank: str | None = None
    refund_date: datetime.date | None = None
    status: str | None = strawberry.field(default=None, description="pending, paid or rejected.")


@strawberry.type(description="A marriage or divorce registration.")
class MarriageRecord:
    agency: SourceAgency
    status: str | None = strawberry.field(default=None, description="married or divorced.")
    registered_on: datetime.date | None = None
    office: str | None = None
    spouse_name: str | None = None
    spouse_id_number: str | None = None


@strawberry.type(description="Social assistance (e.g. minimum living allowance) paid.")
class AllowanceRecord:
    agency: SourceAgency
    program: str | None = None
    monthly_amount: str | None = strawberry.field(default=None, description="In yuan.")
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    status: str | None = strawberry.field(default=None, description="active, suspended or ended.")


@strawberry.type(description="A member of a registered household.")
class HouseholdMember:
    name: str | None = None
    relation: str | None = None
    id_number: str | None = None
    birth_date: str | None = strawberry.field(
        default=None, description="YYYY-MM-DD, or YYYY-MM when masked."
    )


@strawberry.type(description="The registered household (户口) of the subject.")
class Household:
    agency: SourceAgency
    household_number: str | None = None
    address: str | None = None
    head_name: str | None = None
    members: list[HouseholdMember] | None = None


@strawberry.type(description="A hotel stay registered with the police.")
class LodgingRecord:
    agency: SourceAgency
    hotel: str | None = None
    city: str | None = None
    address: str | None = None
    check_in: datetime.datetime | None = None
    check_out: datetime.datetime | None = None


_TYPES: Mapping[str, type] = {
    "bank.accounts": BankAccount,
    "tax.refunds": TaxRefund,
    "civil_affairs.marriages": MarriageRecord,
    "civil_affairs.allowances": AllowanceRecord,
    "public_security.household": Household,
    "public_security.lodging": LodgingRecord,
}
_NESTED: Mapping[str, type] = {"members": HouseholdMember}


def _present(view: DatasetView, record: ShapedRecord) -> Any:
    """The GraphQL object of a shaped record; denied values stay errors (resolved as null)."""
    values: dict[str, Any] = {}
    groups: dict[str, dict[str, str]] = {}
    for attribute, name in view.attributes.items():
        head, _, sub = attribute.partition(".")
        if sub:
            groups.setdefault(head, {})[sub] = name.partition(".")[2]
        elif name in record.values:
            values[attribute] = record.values[name]
    for head, subs in groups.items():
        items = record.values.get(head)
        if isinstance(items, list):
            nested = _NESTED[head]
            items = [nested(**{a: i[n] for a, n in subs.items() if n in i}) for i in items]
        values[head] = items
    agency = SourceAgency(id=record.agency.id, name=record.agency.name, kind=record.agency.kind)
    return _TYPES[view.dataset](agency=agency, **values)


def _records(answer: DatasetAnswer | None, dataset: str, window: Window | None = None) -> Any:
    if answer is None:
        return None
    if answer.error is not None:
        raise answer.error
    view = view_of(dataset)
    rows = answer.records
    if window is not None and window != answer.window:
        rows = [row for row in rows if window.contains(row.day)]
    # graphql-core resolves an exception in a list to null with a located error.
    return [_present(view, row) for row in rows] + list(answer.failures)


@strawberry.type(description="What the agencies know of one subject, under one case.")
class Investigation:
    case_number: str
    subject: InvestigatedSubject
    answers: strawberry.Private[Mapping[str, DatasetAnswer]]

    @strawberry.field(description="Accounts at every bank." + _FAILED)
    def bank_accounts(self) -> list[BankAccount | None] | None:
        return _records(self.answers.get("bank.accounts"), "bank.accounts")  # type: ignore[no-any-return]

    @strawberry.field(description="Tax refunds due or paid." + _FAILED)
    def tax_refunds(self) -> list[TaxRefund | None] | None:
        return _records(self.answers.get("tax.refunds"), "tax.refunds")  # type: ignore[no-any-return]

    @strawberry.field(description="Marriage and divorce registrations." + _FAILED)
    def marriage_records(self) -> list[MarriageRecord | None] | None:
        dataset = "civil_affairs.marriages"
        return _records(self.answers.get(dataset), dataset)  # type: ignore[no-any-return]

    @strawberry.field(description="Social assistance received." + _FAILED)
    def allowance_records(self) -> list[AllowanceRecord | None] | None:
        dataset = "civil_affairs.allowances"
        return _records(self.answers.get(dataset), dataset)  # type: ignore[no-any-return]

    @strawberry.field(description="The registered household; null with an error on failure.")
    def household(self) -> Household | None:
        found = _records(self.answers.get("public_security.household"), "public_security.household")
        if not found:
            return None
        first = found[0]
        if isinstance(first, Exception):
            raise first
        return first  # type: ignore[no-any-return]

    @strawberry.field(
        description="Hotel stays checked in from `since` to `until` (inclusive), within "
        "what policy allows (e.g. the last two years)." + _FAILED
    )
    def lodging_records(
        self, since: datetime.date | None = None, until: datetime.date | None = None
    ) -> list[LodgingRecord | None] | None:
        dataset = "public_security.lodging"
        return _records(self.answers.get(dataset), dataset, Window(since, until))  # type: ignore[no-any-return]


@strawberry.type
class InvestigationQuery:
    @strawberry.field(
        description="Investigate a respondent of one of your open cases across the agencies.",
        permission_classes=[requires_scope(scopes.INVESTIGATE)],
    )
    async def investigation(
        self, info: Info[RequestContext, None], case_number: str, subject: SubjectInput
    ) -> Investigation:
        context = info.context
        record = context.access.record
        record.operation = "investigation"
        plan = cached_plan(info)
        record.requested = {dataset: sorted(names) for dataset, names in plan.fields.items()}
        authority = await authorize_investigation(context, case_number, subject)
        answers = await federate(context, authority, plan)
        # Measures may be ordered only on assets an investigation returned.
        await remember_investigated_assets(context, authority, answers)
        chosen = authority.subject
        is_person = chosen.id_type == "resident_id"
        return Investigation(
            case_number=authority.case.case_number,
            subject=InvestigatedSubject(
                resident_id=chosen.id_number if is_person else None,
                credit_code=None if is_person else chosen.id_number,
                name=authority.respondent.name or chosen.name,
            ),
            answers=answers,
        )
