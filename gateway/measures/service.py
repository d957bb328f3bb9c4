"""Ordering a control measure, end to end, from a GraphQL request.

Placing a measure (freeze, seal up, freeze equity) or acting on one (renew,
unfreeze, release, deduct) runs the same steps, in this order, so that a
refusal changes nothing:

1. **Input**: the request id (the idempotency key), the ruling and notice
   (numbers and dates), the amount and the last day, the dataset and kind.
2. **Authority** (gateway.authority): an open case assigned to the officer, the
   subject a respondent of it; refusals are recorded like an investigation's.
3. **Idempotency**: the same request id with the same request answers the
   stored measure again; with another request it is refused.
4. **Law** (gateway.measures.limits): the asset was returned by this case's
   investigation, carries no measure of the kind yet, the amount is within the
   frozen amount and the claim, the period within the law's, the measure acted
   on is in force.
5. **Policy**: the ``control`` action, decided by Cedar (gateway.policy).
6. **Audit intent**, durable before the agency is asked (fail closed).
7. **Order**: stored as ``submitted``, sent, and the agency's answer recorded.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import orjson

from connectors.control import (
    CONTROLLED_DATASETS,
    PLACING_KINDS,
    ControlConnector,
    ControlledDataset,
    LegalDocument,
    MeasureKind,
    MeasureReport,
)
from connectors.remote import capture_exchanges
from connectors.sdk import ConnectorError
from connectors.subject import Subject, parse_subject
from gateway.access_record import AgencyCall
from gateway.authority import Authority, check_authority
from gateway.context import RequestContext
from gateway.db import run_sync
from gateway.errors import BadUserInput, Forbidden, NotFound, ServiceUnavailable
from gateway.field_policy import AccessContext
from gateway.measures import limits
from gateway.measures.errors import (
    AlreadyUnderMeasure,
    AmountOverLimit,
    AssetNotInvestigated,
    MeasureNotApplicable,
    MeasureNotInForce,
    MeasureRefused,
    RequestIdConflict,
    RulingRequired,
)
from gateway.measures.orders import NOTICE_TYPE, apply_report, audit_step, order_of, today
from gateway.measures.store import AssetUnderMeasure, MeasureRow, MeasureStore

if TYPE_CHECKING:
    from gateway.services import Services

__all__ = [
    "ActOnMeasure",
    "PlaceMeasure",
    "act_on_measure",
    "follow_measure",
    "place_measure",
    "poll_agency",
    "subject_index_of",
]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,63}$")
#: What each acting kind may act on, and what the asset class must allow.
_LIFTS = {"unfreeze": ("freeze", "freeze_equity"), "release_seal": ("seal_up",)}


@dataclass(frozen=True)
class PlaceMeasure:
    """An officer's order to place a measure on an asset an investigation returned."""

    request_id: str
    kind: MeasureKind
    case_number: str
    subject: Subject
    agency_id: str
    dataset: str
    asset_key: str
    ruling: LegalDocument | None
    notice: LegalDocument | None
    amount: str | None = None
    until: datetime.date | None = None


@dataclass(frozen=True)
class ActOnMeasure:
    """An officer's order to renew, lift or deduct from a measure in force."""

    request_id: str
    kind: MeasureKind
    measure_id: str
    ruling: LegalDocument | None
    notice: LegalDocument | None
    amount: str | None = None
    until: datetime.date | None = None


def _store(context: RequestContext) -> MeasureStore:
    store = context.services.measures
    if store is None:
        raise ServiceUnavailable("Control measures are not configured.")
    return store


def _check_request_id(value: str) -> None:
    if not _REQUEST_ID.match(value):
        raise BadUserInput(
            "requestId must be 8 to 64 letters, digits, '_', '.', ':' or '-' (e.g. a UUID); "
            "send the same id again to retry the same request safely.",
            field="requestId",
        )


def _money_cents(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        amount = Decimal(0)
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise BadUserInput("amount must be a positive amount in yuan, e.g. 1000.00", field="amount")
    return int(amount * 100)


def _digest(*parts: object) -> str:
    return hashlib.sha256(orjson.dumps([str(p) for p in parts])).hexdigest()


def subject_index_of(store: MeasureStore, authority: Authority) -> str:
    """The subject's keyed index, as the case store keeps it (measures and assets use it)."""
    subject = authority.subject
    return authority.respondent.blind_index or store.ref(
        "subject", subject.id_type, subject.id_number
    )


def _documents(
    ruling: LegalDocument | None, notice: LegalDocument | None, day: datetime.date
) -> tuple[LegalDocument, LegalDocument]:
    limits.check_documents(ruling.date if ruling else None, notice.date if notice else None, day)
    if ruling is None or notice is None:  # check_documents has refused already
        raise RulingRequired("A measure needs its ruling and notice.", field="ruling")
    if not ruling.number.strip() or not notice.number.strip():
        raise RulingRequired("The ruling and the notice need their numbers.", field="ruling")
    return ruling, notice


def _controlled(dataset: str) -> ControlledDataset:
    controlled = CONTROLLED_DATASETS.get(dataset)
    if controlled is None:
        known = ", ".join(sorted(CONTROLLED_DATASETS))
        raise BadUserInput(
            f"No measures are taken on {dataset!r}; they are on {known}.", field="dataset"
        )
    return controlled


async def _replayed(
    store: MeasureStore, request_id: str, digest: str, officer_id: str | None
) -> MeasureRow | None:
    """The stored measure of a retried request; ``RequestIdConflict`` for another request."""
    existing = await run_sync(store.get, request_id)
    if existing is None:
        return None
    if existing.request_digest != digest or existing.officer_id != officer_id:
        raise RequestIdConflict(
            f"Request id {request_id} was used for another request; choose a new id.",
            existingMeasureId=existing.id,
        )
    return existing


def _decide(
    context: RequestContext,
    authority: Authority,
    kind: str,
    dataset: str,
    notice: LegalDocument,
    presiding: bool,
) -> None:
    """The ``control`` action, decided by the policies (DESIGN.md §6)."""
    policy = context.services.field_policy
    record = context.access.record
    record.policy_set_hash = policy.policy_set_hash
    case = authority.case
    facts = AccessContext(
        case_open=case.is_open,
        officer_assigned=case.is_assigned(authority.officer_id),
        subject_is_respondent=True,
        request_time=authority.checked_at,
        document_type=NOTICE_TYPE,
        document_valid=notice.date <= today(),
        case_court=case.court.id,
        extra={"measureKind": kind, "rulingGiven": True, "presidingOfficer": presiding},
    )
    decision = policy.decide_control(context.principal, facts, dataset)
    if not decision.allowed:
        record.refused = "POLICY_DENIED"
        because = ", ".join(decision.policy_ids) or "no policy permitting it"
        raise Forbidden(
            f"Policy does not let you order {kind} on {dataset} ({because}).",
            policyIds=list(decision.policy_ids),
            reason="POLICY_DENIED",
        )


def _agency(services: Services, agency_id: str, dataset: str) -> tuple[ControlConnector, float]:
    try:
        registered = services.agencies.get(agency_id)
    except KeyError:
        raise NotFound(f"No agency {agency_id} is configured.", field="agencyId") from None
    connector = registered.connector
    if not isinstance(connector, ControlConnector) or dataset not in connector.controlled:
        raise MeasureNotApplicable(f"{agency_id} takes no measures on {dataset}.")
    return connector, registered.deadline_s


def _refuse(
    context: RequestContext, error: MeasureRefused | BadUserInput
) -> MeasureRefused | BadUserInput:
    context.access.record.refused = error.code
    return error


async def place_measure(context: RequestContext, order: PlaceMeasure) -> MeasureRow:
    """Place a measure (freeze, seal up, freeze equity); see the module docstring.

    Raises:
        BadUserInput, RulingRequired: invalid input (nothing changed).
        NotFound, Forbidden: no case, or no authority over it (see gateway.authority).
        MeasureRefused: a legal limit (see gateway.measures.errors).
        AuditUnavailable: the intent could not be made durable; no agency was asked.
    """
    store = _store(context)
    record = context.access.record
    record.operation = order.kind
    day = today()
    try:
        _check_request_id(order.request_id)
        ruling, notice = _documents(order.ruling, order.notice, day)
        controlled = _controlled(order.dataset)
        if order.kind != controlled.spec.placing_kind:
            raise MeasureNotApplicable(
                f"{order.kind} does not apply to {order.dataset} "
                f"({controlled.asset_class}); order {controlled.spec.placing_kind}."
            )
        requested = _money_cents(order.amount)
        if requested is not None and not controlled.spec.amount_bound:
            raise BadUserInput(
                f"A {order.kind} takes the whole asset; give no amount.", field="amount"
            )
        until = limits.placement_until(controlled, order.until, day)
    except (MeasureRefused, BadUserInput) as error:
        raise _refuse(context, error) from None
    authority = await check_authority(context, order.case_number, order.subject)
    subject = authority.subject
    subject_index = subject_index_of(store, authority)
    asset_ref = store.asset_ref(order.agency_id, order.dataset, order.asset_key)
    digest = _digest(
        order.kind,
        authority.case.case_number,
        subject_index,
        asset_ref,
        ruling,
        notice,
        order.amount,
        order.until,
    )
    replayed = await _replayed(store, order.request_id, digest, authority.officer_id)
    if replayed is not None:
        return replayed
    try:
        found = store.found_ref(authority.case.case_number, subject_index, asset_ref)
        if not await run_sync(store.was_found, found):
            raise AssetNotInvestigated(
                f"No investigation under {authority.case.case_number} returned this asset of "
                "this subject: investigate first, then order the measure on what was found."
            )
        existing = await run_sync(store.active_on_asset, asset_ref, sorted(PLACING_KINDS))
        if existing is not None:
            raise _already_under(existing)
        enforcement = await run_sync(store.enforcement, authority.case.case_number)
        if controlled.spec.amount_bound:
            outstanding = await _outstanding(store, authority.case.case_number)
            if requested is None:
                requested = outstanding
            if requested > outstanding or outstanding <= 0:
                raise AmountOverLimit(
                    f"A freeze may hold at most the claim outstanding: {limits.yuan(outstanding)} "
                    "yuan (freezing more than the claim is not allowed).",
                    limit=limits.yuan(outstanding),
                )
    except MeasureRefused as error:
        raise _refuse(context, error) from None
    presiding = enforcement is not None and enforcement.presiding_officer_id == authority.officer_id
    _decide(context, authority, order.kind, order.dataset, notice, presiding)
    connector, deadline_s = _agency(context.services, order.agency_id, order.dataset)
    now = datetime.datetime.now(datetime.UTC)
    row = MeasureRow(
        id=order.request_id,
        request_digest=digest,
        kind=order.kind,
        case_number=authority.case.case_number,
        court_id=authority.case.court.id,
        officer_id=authority.officer_id,
        subject_index=subject_index,
        subject_id=subject.id_number,
        subject_type=subject.id_type,
        agency_id=order.agency_id,
        dataset=order.dataset,
        asset_ref=asset_ref,
        asset_key=order.asset_key,
        status="submitted",
        requested_cents=requested,
        amount_cents=None,
        until=until,
        agency_reference=None,
        reason=None,
        ruling_number=ruling.number,
        ruling_date=ruling.date,
        notice_number=notice.number,
        notice_date=notice.date,
        acts_on=None,
        created_at=now,
        updated_at=now,
    )
    return await _send(context, store, row, connector, deadline_s)


def _already_under(existing: MeasureRow | None) -> AlreadyUnderMeasure:
    if existing is None:  # lifted between the refusal and the look-up: the next order may pass
        return AlreadyUnderMeasure(
            "Another measure was being placed on the asset at the same moment; look it up in "
            "myMeasures before ordering again.",
            existingMeasureId=None,
        )
    return AlreadyUnderMeasure(
        f"The asset is already under {existing.kind} {existing.id} "
        f"({existing.status}); renew or lift that measure instead.",
        existingMeasureId=existing.id,
    )


async def _outstanding(store: MeasureStore, case_number: str) -> int:
    enforcement = await run_sync(store.enforcement, case_number)
    if enforcement is None:
        raise AmountOverLimit(
            f"No claim is recorded for {case_number}: ask your court's case administrator to "
            "record the amount to enforce before money is frozen or deducted.",
            limit="0.00",
        )
    deducted = await run_sync(store.deducted_cents, case_number)
    return enforcement.claim_cents - deducted


async def act_on_measure(context: RequestContext, order: ActOnMeasure) -> MeasureRow:
    """Renew, lift or deduct from a measure in force; see the module docstring.

    Raises:
        as :func:`place_measure`; NotFound for an unknown measure.
    """
    store = _store(context)
    record = context.access.record
    record.operation = order.kind
    day = today()
    try:
        _check_request_id(order.request_id)
        ruling, notice = _documents(order.ruling, order.notice, day)
        requested = _money_cents(order.amount)
    except (MeasureRefused, BadUserInput) as error:
        raise _refuse(context, error) from None
    target = await run_sync(store.get, order.measure_id)
    if target is None:
        raise NotFound(f"No measure {order.measure_id}.", field="measureId")
    subject = parse_subject(target.subject_type, target.subject_id)
    authority = await check_authority(context, target.case_number, subject)
    digest = _digest(order.kind, target.id, ruling, notice, order.amount, order.until)
    replayed = await _replayed(store, order.request_id, digest, authority.officer_id)
    if replayed is not None:
        return replayed
    controlled = CONTROLLED_DATASETS[target.dataset]
    until = target.until
    try:
        _check_applicable(order.kind, target, controlled)
        if target.status != "executed" or (target.until is not None and target.until < day):
            state = "expired" if target.status in ("executed", "expired") else target.status
            raise MeasureNotInForce(
                f"Measure {target.id} is {state}, not in force: nothing can be "
                f"{'renewed' if order.kind == 'renew_freeze' else 'done'} under it.",
                reason=state.upper(),
            )
        if order.kind == "renew_freeze":
            until = limits.placement_until(controlled, order.until, day)
            limits.check_renewal(target.until, until, day)
        if order.kind == "deduct":
            if requested is None:
                raise BadUserInput("A deduction names its amount.", field="amount")
            taken = await run_sync(store.deducted_from, target.id)
            frozen_left = (target.amount_cents or 0) - taken
            limits.check_deduction(
                requested, frozen_left, await _outstanding(store, target.case_number)
            )
        elif requested is not None:
            raise BadUserInput(f"A {order.kind} takes no amount.", field="amount")
    except (MeasureRefused, BadUserInput) as error:
        raise _refuse(context, error) from None
    enforcement = await run_sync(store.enforcement, target.case_number)
    presiding = enforcement is not None and enforcement.presiding_officer_id == authority.officer_id
    _decide(context, authority, order.kind, target.dataset, notice, presiding)
    connector, deadline_s = _agency(context.services, target.agency_id, target.dataset)
    now = datetime.datetime.now(datetime.UTC)
    row = MeasureRow(
        id=order.request_id,
        request_digest=digest,
        kind=order.kind,
        case_number=target.case_number,
        court_id=target.court_id,
        officer_id=authority.officer_id,
        subject_index=target.subject_index,
        subject_id=target.subject_id,
        subject_type=target.subject_type,
        agency_id=target.agency_id,
        dataset=target.dataset,
        asset_ref=target.asset_ref,
        asset_key=target.asset_key,
        status="submitted",
        requested_cents=requested,
        amount_cents=None,
        until=until if order.kind == "renew_freeze" else None,
        agency_reference=None,
        reason=None,
        ruling_number=ruling.number,
        ruling_date=ruling.date,
        notice_number=notice.number,
        notice_date=notice.date,
        acts_on=target.id,
        created_at=now,
        updated_at=now,
    )
    return await _send(context, store, row, connector, deadline_s)


def _check_applicable(kind: str, target: MeasureRow, controlled: ControlledDataset) -> None:
    spec = controlled.spec
    if kind == "renew_freeze":
        fits = target.kind in PLACING_KINDS
    elif kind == "deduct":
        fits = target.kind == "freeze" and spec.deductible
    else:
        fits = target.kind in _LIFTS.get(kind, ()) and spec.lifting_kind == kind
    if not fits:
        raise MeasureNotApplicable(
            f"{kind} does not apply to measure {target.id} ({target.kind} on {target.dataset})."
        )


async def _send(
    context: RequestContext,
    store: MeasureStore,
    row: MeasureRow,
    connector: ControlConnector,
    deadline_s: float,
) -> MeasureRow:
    """Audit the order, store it, send it and record the answer."""
    record = context.access.record
    call = AgencyCall(row.agency_id, {row.dataset: []})
    record.agency_calls.append(call)
    record.document = f"{NOTICE_TYPE} {row.notice_number}"
    record.measures.append(audit_step(row, "ordered"))
    # The order is on record before the agency is asked (fail closed, DESIGN.md §7).
    await context.access.before_fanout()
    try:
        stored = await run_sync(store.insert, row)
    except AssetUnderMeasure as taken:
        # A concurrent order on the same asset passed the same checks and was stored
        # first: the database's unique index decided; nothing was sent.
        raise _refuse(context, _already_under(taken.existing)) from None
    if stored is None:
        # A concurrent retry of the same request stored it first.
        replayed = await _replayed(store, row.id, row.request_digest, row.officer_id)
        if replayed is None:
            raise ServiceUnavailable("The measure could not be stored; try again.")
        return replayed
    report, call.outcome = await _ask(connector, row, deadline_s, call)
    if report is None:
        record.measures.append(audit_step(row, "answered"))
        return row
    updated = await run_sync(apply_report, store, row, report)
    record.measures.append(audit_step(updated, "answered"))
    return updated


async def _ask(
    connector: ControlConnector, row: MeasureRow, deadline_s: float, call: AgencyCall
) -> tuple[MeasureReport | None, str]:
    """Submit the order; an agency that cannot answer now leaves it ``submitted`` (retried)."""
    started = time.perf_counter()
    try:
        with capture_exchanges() as exchanges:
            async with asyncio.timeout(deadline_s):
                report = await connector.submit(order_of(row))
    except TimeoutError:
        return None, "AGENCY_TIMEOUT"
    except ConnectorError as error:
        return None, error.code
    finally:
        call.latency_ms = round((time.perf_counter() - started) * 1000)
    if exchanges:
        call.request_digest = exchanges[-1].request_digest
        call.response_digest = exchanges[-1].response_digest
    return report, "ok"


async def poll_agency(services: Services, row: MeasureRow) -> tuple[MeasureRow, AgencyCall | None]:
    """Ask the agency about a measure awaiting its answer and record what changed.

    A ``submitted`` measure (the agency could not be reached) is submitted again
    (the same order: idempotent by measure id); an ``accepted`` one is polled.

    Returns:
        The measure as it now stands, and the call if the agency's answer changed it.
    """
    store = services.measures
    if store is None or row.status not in ("submitted", "accepted"):
        return row, None
    try:
        connector, deadline_s = _agency(services, row.agency_id, row.dataset)
    except (NotFound, MeasureRefused):
        return row, None
    call = AgencyCall(row.agency_id, {row.dataset: []})
    started = time.perf_counter()
    try:
        with capture_exchanges() as exchanges:
            async with asyncio.timeout(deadline_s):
                if row.status == "submitted":
                    reports = [await connector.submit(order_of(row))]
                else:
                    reports = await connector.reports([row.id])
    except (TimeoutError, ConnectorError):
        return row, None
    call.outcome = "ok"
    call.latency_ms = round((time.perf_counter() - started) * 1000)
    if exchanges:
        call.request_digest = exchanges[-1].request_digest
        call.response_digest = exchanges[-1].response_digest
    for report in reports:
        if report.measure_id == row.id:
            updated = await run_sync(apply_report, store, row, report)
            return updated, (call if updated is not row else None)
    return row, None


async def follow_measure(context: RequestContext, row: MeasureRow) -> MeasureRow:
    """:func:`poll_agency` for an officer's request; a change is recorded on its audit event."""
    updated, call = await poll_agency(context.services, row)
    if call is not None:
        record = context.access.record
        record.agency_calls.append(call)
        record.measures.append(audit_step(updated, "reported"))
    return updated
