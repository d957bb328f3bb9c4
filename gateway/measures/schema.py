"""The GraphQL API of control measures: one mutation per legal act, and the officer's views.

Mutations (scope ``control``), each naming its ruling and assistance notice and
a client-chosen ``requestId`` (the idempotency key, which becomes the measure's
id): ``freeze``, ``sealUp`` and ``freezeEquity`` place a measure on an asset an
investigation returned; ``renewFreeze``, ``unfreeze``, ``releaseSeal`` and
``deduct`` act on a measure in force. Queries: ``myMeasures``, ``measure(id)``
(which asks the agency about a measure still awaiting its answer),
``expiringMeasures(days)`` and ``explainMeasure``.
"""

from __future__ import annotations

import datetime
from enum import StrEnum

import strawberry
from strawberry.types import Info

from connectors.control import CONTROLLED_DATASETS, LegalDocument, MeasureKind
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.authority import load_case, parse_case_number
from gateway.context import RequestContext
from gateway.db import run_sync
from gateway.errors import BadUserInput, Forbidden, NotFound, ServiceUnavailable
from gateway.measures.explain import explain_control
from gateway.measures.limits import yuan
from gateway.measures.orders import today
from gateway.measures.service import (
    ActOnMeasure,
    PlaceMeasure,
    act_on_measure,
    follow_measure,
    place_measure,
)
from gateway.measures.store import MeasureRow, MeasureStore
from gateway.schema.permissions import requires_scope
from gateway.schema.subject import SubjectInput

__all__ = ["MeasuresMutation", "MeasuresQuery"]

MAX_LIST = 200
MAX_DAYS = 366


@strawberry.enum(description="The legal act a measure is.")
class MeasureKindEnum(StrEnum):
    FREEZE = "freeze"
    RENEW_FREEZE = "renew_freeze"
    UNFREEZE = "unfreeze"
    DEDUCT = "deduct"
    SEAL_UP = "seal_up"
    RELEASE_SEAL = "release_seal"
    FREEZE_EQUITY = "freeze_equity"


@strawberry.enum(description="Where a measure is in its lifecycle.")
class MeasureStatusEnum(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXECUTED = "executed"
    RELEASED = "released"
    EXPIRED = "expired"


@strawberry.type(name="MeasureDocument", description="A numbered, dated legal document.")
class LegalDocumentType:
    number: str
    date: datetime.date


@strawberry.input(description="A ruling (裁定书) or assistance notice (协助执行通知书).")
class MeasureDocumentInput:
    number: str
    date: datetime.date


@strawberry.type(description="A control measure and where it stands.")
class Measure:
    id: str
    kind: MeasureKindEnum
    status: MeasureStatusEnum
    case_number: str
    agency_id: str
    dataset: str
    asset_key: str = strawberry.field(
        description="The agency's key for the asset (account number)."
    )
    requested_amount: str | None = strawberry.field(description="Yuan, as ordered.")
    amount: str | None = strawberry.field(
        description="Yuan actually frozen (what the freeze still holds after deductions is "
        "`amount` minus its deductions) or deducted, as the agency reported."
    )
    effective_until: datetime.date | None = strawberry.field(
        description="The last day a placement is in force."
    )
    agency_reference: str | None
    reason: str | None = strawberry.field(description="Why the agency rejected it.")
    ruling: LegalDocumentType
    notice: LegalDocumentType
    acts_on: str | None = strawberry.field(
        description="The measure renewed, lifted or deducted from."
    )
    officer_id: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


@strawberry.input(description="Place a measure on an asset an investigation of the case returned.")
class PlaceMeasureInput:
    request_id: str = strawberry.field(
        description="Chosen by the client (e.g. a UUID): the measure's id; a retry with the "
        "same id and input answers the same measure."
    )
    case_number: str
    subject: SubjectInput
    agency_id: str
    asset_key: str = strawberry.field(
        description="The asset's key as the investigation returned it: the account number, "
        "title certificate number (不动产权证号), plate or equity registration id."
    )
    ruling: MeasureDocumentInput | None = None
    notice: MeasureDocumentInput | None = None
    dataset: str = strawberry.field(
        default="bank.accounts",
        description="The dataset the asset was found in: bank.accounts, "
        "provident_fund.accounts, real_estate.rights, public_security.vehicles or "
        "market_regulation.equity.",
    )
    amount: str | None = strawberry.field(
        default=None,
        description="Yuan to freeze (deposits and fund balances only: a seal or an equity "
        "freeze takes the whole asset); by default the claim outstanding.",
    )
    until: datetime.date | None = strawberry.field(
        default=None, description="Last day in force; by default the longest the law allows."
    )


@strawberry.input(description="Renew, lift or deduct from a measure in force.")
class MeasureActionInput:
    request_id: str
    measure_id: str
    ruling: MeasureDocumentInput | None = None
    notice: MeasureDocumentInput | None = None
    amount: str | None = strawberry.field(default=None, description="Yuan to deduct.")
    until: datetime.date | None = strawberry.field(
        default=None, description="New last day of a renewal; by default the longest allowed."
    )


@strawberry.type(description="Whether you may order a measure, and the policies that decide.")
class MeasureExplanation:
    case_number: str
    dataset: str
    kind: MeasureKindEnum
    allowed: bool
    policy_ids: list[str]
    policy_set_hash: str


def _document(value: MeasureDocumentInput | None) -> LegalDocument | None:
    return None if value is None else LegalDocument(value.number.strip(), value.date)


def present(row: MeasureRow) -> Measure:
    """The GraphQL view of a stored measure."""
    return Measure(
        id=row.id,
        kind=MeasureKindEnum(row.kind),
        status=MeasureStatusEnum(row.status),
        case_number=row.case_number,
        agency_id=row.agency_id,
        dataset=row.dataset,
        asset_key=row.asset_key,
        requested_amount=None if row.requested_cents is None else yuan(row.requested_cents),
        amount=None if row.amount_cents is None else yuan(row.amount_cents),
        effective_until=row.until,
        agency_reference=row.agency_reference,
        reason=row.reason,
        ruling=LegalDocumentType(number=row.ruling_number, date=row.ruling_date),
        notice=LegalDocumentType(number=row.notice_number, date=row.notice_date),
        acts_on=row.acts_on,
        officer_id=row.officer_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _store(info: Info[RequestContext, None]) -> MeasureStore:
    store = info.context.services.measures
    if store is None:
        raise ServiceUnavailable("Control measures are not configured.")
    return store


def _officer(info: Info[RequestContext, None]) -> str:
    principal = info.context.principal
    if principal.role is not Role.OFFICER or principal.officer_id is None:
        raise Forbidden("Only enforcement officers follow measures.")
    return principal.officer_id


async def _place(
    info: Info[RequestContext, None], kind: MeasureKind, given: PlaceMeasureInput
) -> Measure:
    number = parse_case_number(given.case_number)
    order = PlaceMeasure(
        request_id=given.request_id,
        kind=kind,
        case_number=number,
        subject=given.subject.to_subject(),
        agency_id=given.agency_id,
        dataset=given.dataset,
        asset_key=given.asset_key.strip(),
        ruling=_document(given.ruling),
        notice=_document(given.notice),
        amount=given.amount,
        until=given.until,
    )
    return present(await place_measure(info.context, order))


async def _act(
    info: Info[RequestContext, None], kind: MeasureKind, given: MeasureActionInput
) -> Measure:
    order = ActOnMeasure(
        request_id=given.request_id,
        kind=kind,
        measure_id=given.measure_id,
        ruling=_document(given.ruling),
        notice=_document(given.notice),
        amount=given.amount,
        until=given.until,
    )
    return present(await act_on_measure(info.context, order))


_CONTROL = [requires_scope(scopes.CONTROL)]


@strawberry.type
class MeasuresMutation:
    @strawberry.mutation(
        description="Freeze deposits (冻结) on an account an investigation returned.",
        permission_classes=_CONTROL,
    )
    async def freeze(self, info: Info[RequestContext, None], input: PlaceMeasureInput) -> Measure:
        return await _place(info, "freeze", input)

    @strawberry.mutation(
        description="Seal up (查封) real estate or a vehicle an investigation returned.",
        permission_classes=_CONTROL,
    )
    async def seal_up(self, info: Info[RequestContext, None], input: PlaceMeasureInput) -> Measure:
        return await _place(info, "seal_up", input)

    @strawberry.mutation(
        description="Freeze an equity holding (冻结股权) an investigation returned.",
        permission_classes=_CONTROL,
    )
    async def freeze_equity(
        self, info: Info[RequestContext, None], input: PlaceMeasureInput
    ) -> Measure:
        return await _place(info, "freeze_equity", input)

    @strawberry.mutation(
        description="Renew a freeze or seal in force before it expires (续行冻结/续封).",
        permission_classes=_CONTROL,
    )
    async def renew_freeze(
        self, info: Info[RequestContext, None], input: MeasureActionInput
    ) -> Measure:
        return await _act(info, "renew_freeze", input)

    @strawberry.mutation(description="Lift a freeze (解除冻结).", permission_classes=_CONTROL)
    async def unfreeze(
        self, info: Info[RequestContext, None], input: MeasureActionInput
    ) -> Measure:
        return await _act(info, "unfreeze", input)

    @strawberry.mutation(description="Lift a seal (解除查封).", permission_classes=_CONTROL)
    async def release_seal(
        self, info: Info[RequestContext, None], input: MeasureActionInput
    ) -> Measure:
        return await _act(info, "release_seal", input)

    @strawberry.mutation(
        description="Deduct (扣划) from frozen deposits, within the frozen amount and the claim.",
        permission_classes=_CONTROL,
    )
    async def deduct(self, info: Info[RequestContext, None], input: MeasureActionInput) -> Measure:
        return await _act(info, "deduct", input)


@strawberry.type
class MeasuresQuery:
    @strawberry.field(
        description="Measures on your cases, newest first.", permission_classes=_CONTROL
    )
    async def my_measures(
        self, info: Info[RequestContext, None], case_number: str | None = None, first: int = 50
    ) -> list[Measure]:
        officer = _officer(info)
        if not 1 <= first <= MAX_LIST:
            raise BadUserInput(f"'first' must be 1 to {MAX_LIST}.", field="first")
        number = None if case_number is None else parse_case_number(case_number)
        info.context.access.record.operation = "myMeasures"
        rows = await run_sync(_store(info).of_officer, officer, number, first)
        return [present(row) for row in rows]

    @strawberry.field(
        description="One measure of your cases; a measure awaiting its agency's answer is "
        "asked about first.",
        permission_classes=_CONTROL,
    )
    async def measure(self, info: Info[RequestContext, None], id: str) -> Measure:
        officer = _officer(info)
        context = info.context
        record = context.access.record
        record.operation = "measure"
        row = await run_sync(_store(info).get, id)
        if row is None or (row.officer_id != officer and not await _assigned(info, row, officer)):
            raise NotFound(f"No measure {id} on your cases.")
        record.case_number, record.court_id = row.case_number, row.court_id
        record.subjects = [row.subject_id]
        return present(await follow_measure(context, row))

    @strawberry.field(
        description="Freezes and seals in force on your cases whose last day is within `days` "
        "days: renew them before they expire.",
        permission_classes=_CONTROL,
    )
    async def expiring_measures(
        self, info: Info[RequestContext, None], days: int = 30, first: int = 100
    ) -> list[Measure]:
        officer = _officer(info)
        if not 0 <= days <= MAX_DAYS:
            raise BadUserInput(f"'days' must be 0 to {MAX_DAYS}.", field="days")
        if not 1 <= first <= MAX_LIST:
            raise BadUserInput(f"'first' must be 1 to {MAX_LIST}.", field="first")
        info.context.access.record.operation = "expiringMeasures"
        day = today()
        last = day + datetime.timedelta(days=days)
        rows = await run_sync(_store(info).expiring, officer, day, last, first)
        return [present(row) for row in rows]

    @strawberry.field(
        description="Whether you may order `kind` on `dataset` against `subject` under "
        "`caseNumber`, and which policies decide. Nothing is ordered.",
        permission_classes=[requires_scope(scopes.POLICY_EXPLAIN)],
    )
    async def explain_measure(
        self,
        info: Info[RequestContext, None],
        case_number: str,
        subject: SubjectInput,
        kind: MeasureKindEnum,
        dataset: str = "bank.accounts",
    ) -> MeasureExplanation:
        if dataset not in CONTROLLED_DATASETS:
            raise BadUserInput(f"No measures are taken on {dataset!r}.", field="dataset")
        number = parse_case_number(case_number)
        allowed, ids = await explain_control(
            info.context, number, subject.to_subject(), kind.value, dataset
        )
        policy = info.context.services.field_policy
        return MeasureExplanation(
            case_number=number,
            dataset=dataset,
            kind=kind,
            allowed=allowed,
            policy_ids=list(ids),
            policy_set_hash=policy.policy_set_hash,
        )


async def _assigned(info: Info[RequestContext, None], row: MeasureRow, officer: str) -> bool:
    case = await load_case(info.context, row.case_number)
    return case is not None and case.is_assigned(officer)
