"""From stored measures to agency orders and back: one place for the shape of each.

``order_of`` builds the :class:`~connectors.control.MeasureOrder` a stored
measure stands for (the first submission and every retry send the same order,
so the agency's idempotency holds). ``apply_report`` records an agency's report
on a measure and its effect on the measure it acts on (a renewal moves the last
day, an unfreeze releases). ``audit_step`` is the audit log's record of a step.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from connectors.control import AssetRef, LegalDocument, MeasureKind, MeasureOrder, MeasureReport
from connectors.sdk import LegalAuthority
from connectors.subject import parse_subject
from gateway.access_record import AccessRecord, AgencyCall
from gateway.measures.limits import yuan
from gateway.measures.store import MeasureRow, MeasureStore

__all__ = ["NOTICE_TYPE", "apply_report", "audit_record", "audit_step", "order_of"]

NOTICE_TYPE = "assistance_enforcement_notice"
"""The document a measure is served on: 协助执行通知书."""


def _cents(amount: str | None) -> int | None:
    return None if amount is None else int(Decimal(amount) * 100)


def order_of(row: MeasureRow) -> MeasureOrder:
    """The order a stored measure stands for."""
    kind: MeasureKind = row.kind  # type: ignore[assignment]  # stored from MEASURE_KINDS
    return MeasureOrder(
        measure_id=row.id,
        kind=kind,
        authority=LegalAuthority(
            case_number=row.case_number,
            court_id=row.court_id,
            officer_id=row.officer_id,
            document=f"{NOTICE_TYPE} {row.notice_number}",
        ),
        subject=parse_subject(row.subject_type, row.subject_id),
        asset=AssetRef(row.dataset, row.asset_key),
        ruling=LegalDocument(row.ruling_number, row.ruling_date),
        notice=LegalDocument(row.notice_number, row.notice_date),
        amount=None if row.requested_cents is None else yuan(row.requested_cents),
        until=row.until,
        acts_on=row.acts_on,
    )


def apply_report(store: MeasureStore, row: MeasureRow, report: MeasureReport) -> MeasureRow:
    """Record an agency's report; on execution, its effect on the measure acted on.

    Returns:
        The measure as it now stands (unchanged if the report says nothing new).
    """
    changes: dict[str, object] = {}
    if report.status != row.status:
        changes["status"] = report.status
    amount = _cents(report.amount)
    if amount is not None and amount != row.amount_cents:
        changes["amount_cents"] = amount
    if report.reference is not None and report.reference != row.agency_reference:
        changes["agency_reference"] = report.reference
    if report.reason is not None and report.reason != row.reason:
        changes["reason"] = report.reason[:200]
    if report.effective_until is not None and report.effective_until != row.until:
        changes["until"] = report.effective_until
    if not changes:
        return row
    updated = store.update(row, **changes)
    if updated.status == "executed" and row.status != "executed" and row.acts_on is not None:
        target = store.get(row.acts_on)
        if target is not None:
            if row.kind == "renew_freeze" and row.until is not None:
                store.update(target, until=row.until)
            elif row.kind in ("unfreeze", "release_seal"):
                store.update(target, status="released")
    return updated


def audit_step(row: MeasureRow, step: str) -> dict[str, object]:
    """One step of a measure as the audit log records it (no personal data in clear)."""
    return {
        "measureId": row.id,
        "kind": row.kind,
        "step": step,
        "status": row.status,
        "agencyId": row.agency_id,
        "dataset": row.dataset,
        "assetRef": row.asset_ref,
        "ruling": {"number": row.ruling_number, "date": row.ruling_date.isoformat()},
        "notice": {"number": row.notice_number, "date": row.notice_date.isoformat()},
        "requestedAmount": None if row.requested_cents is None else yuan(row.requested_cents),
        "amount": None if row.amount_cents is None else yuan(row.amount_cents),
        "until": row.until.isoformat() if row.until else None,
        "actsOn": row.acts_on,
        "reference": row.agency_reference,
        "reason": row.reason,
    }


def audit_record(row: MeasureRow, operation: str) -> AccessRecord:
    """An access record naming a measure's case, subject and agency (for later steps)."""
    return AccessRecord(
        operation=operation,
        case_number=row.case_number,
        court_id=row.court_id,
        document=f"{NOTICE_TYPE} {row.notice_number}",
        subjects=[row.subject_id],
        agency_calls=[AgencyCall(row.agency_id, {row.dataset: []})],
    )


def today() -> datetime.date:
    """The day legal periods count from: the UTC date, as the authority check's documents."""
    return datetime.datetime.now(datetime.UTC).date()
