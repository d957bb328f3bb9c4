"""Control measures: the second, optional protocol a connector may speak.

Inquiry is :class:`connectors.sdk.Connector` (``fetch``). An agency obliged to
freeze, seal or deduct as well (banks and the provident-fund centre: 查询、冻结、
扣划; registries: 查封; market regulation: 冻结股权) also implements
:class:`ControlConnector`: ``submit`` one order, idempotent by its measure id, and
``reports`` on orders it answered before, because an agency may accept now and
execute later.

A measure is a legal act. Every order names the ruling (裁定书) and the
assistance-enforcement notice (协助执行通知书) it executes, each with number and
date, the case it is made under, the subject and the asset::

    order  ── submit ──▶  accepted | rejected (reason)
                          accepted ── (agency executes) ──▶ executed (amount, reference)
                          executed ── unfreeze / release ─▶ released
                          executed ── period ends ────────▶ expired

Which datasets accept measures, and of which asset class, is declared once: by
the ``asset_class`` of the dataset's :class:`~connectors.dataset_spec.DatasetSpec`
in its agency kind's declaration. :data:`CONTROLLED_DATASETS` is the live view of
those declarations; the asset class says which kinds apply and how long a
measure may last (SPC interpretation of the Civil Procedure Law, art. 487).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args, runtime_checkable

from connectors.errors import MalformedMessage
from connectors.subject import Subject, parse_subject

if TYPE_CHECKING:
    # connectors.sdk re-exports this module, so it cannot be imported from here at load.
    from connectors.sdk import AgencyIdentity, LegalAuthority

__all__ = [
    "ASSET_CLASSES",
    "ASSET_CLASS_SPECS",
    "CONTROLLED_DATASETS",
    "MEASURE_KINDS",
    "MEASURE_STATUSES",
    "PLACING_KINDS",
    "AssetClass",
    "AssetClassSpec",
    "AssetRef",
    "ControlConnector",
    "ControlledDataset",
    "LegalDocument",
    "MeasureKind",
    "MeasureOrder",
    "MeasureReport",
    "MeasureStatus",
    "parse_money",
]

MeasureKind = Literal[
    "freeze", "renew_freeze", "unfreeze", "deduct", "seal_up", "release_seal", "freeze_equity"
]
"""What an order asks: place a measure, renew or lift one, or deduct from a frozen asset."""
MEASURE_KINDS: tuple[MeasureKind, ...] = get_args(MeasureKind)

MeasureStatus = Literal["submitted", "accepted", "rejected", "executed", "released", "expired"]
"""Where a measure is in its lifecycle (``submitted``: sent, no answer yet)."""
MEASURE_STATUSES: tuple[MeasureStatus, ...] = get_args(MeasureStatus)

AssetClass = Literal["deposit", "provident_fund", "real_estate", "vehicle", "equity"]
ASSET_CLASSES: tuple[AssetClass, ...] = get_args(AssetClass)

#: Kinds that place a measure on an asset (the others act on a placed measure).
PLACING_KINDS: frozenset[str] = frozenset({"freeze", "seal_up", "freeze_equity"})


@dataclass(frozen=True, slots=True)
class AssetClassSpec:
    """What the law allows on one class of asset.

    Attributes:
        placing_kind: The kind that places a measure (``freeze``, ``seal_up`` ...).
        lifting_kind: The kind that lifts it (``unfreeze``, ``release_seal``).
        max_period_days: The longest period of one placement or renewal: deposits
            1 year, movables 2 years, real estate and other property rights 3
            years (SPC interpretation of the Civil Procedure Law, art. 487).
        deductible: Whether money can be deducted (扣划) from it.
        amount_bound: Whether a placement names an amount (funds) or the whole asset.
    """

    placing_kind: MeasureKind
    lifting_kind: MeasureKind
    max_period_days: int
    deductible: bool
    amount_bound: bool

    @property
    def kinds(self) -> tuple[MeasureKind, ...]:
        """Every kind of measure the class takes: place, renew, lift, and deduct if money."""
        taken: tuple[MeasureKind, ...] = (self.placing_kind, "renew_freeze", self.lifting_kind)
        return (*taken, "deduct") if self.deductible else taken


ASSET_CLASS_SPECS: Mapping[AssetClass, AssetClassSpec] = MappingProxyType(
    {
        "deposit": AssetClassSpec("freeze", "unfreeze", 365, True, True),
        "provident_fund": AssetClassSpec("freeze", "unfreeze", 365, True, True),
        "vehicle": AssetClassSpec("seal_up", "release_seal", 730, False, False),
        "real_estate": AssetClassSpec("seal_up", "release_seal", 1095, False, False),
        "equity": AssetClassSpec("freeze_equity", "unfreeze", 1095, False, False),
    }
)


@dataclass(frozen=True, slots=True)
class ControlledDataset:
    """A dataset whose records are assets an agency can act on (derived, never declared).

    Read from the dataset's :class:`~connectors.dataset_spec.DatasetSpec`: its
    ``asset_class``, ``key_field`` and ``amount_field``.

    Attributes:
        dataset: The catalog dataset, e.g. ``bank.accounts``.
        asset_class: What its records are.
        key_field: The field naming one asset to the agency (account number, 不动产权证号 ...).
        amount_field: The money field bounding a freeze, if the class is amount-bound.
    """

    dataset: str
    asset_class: AssetClass
    key_field: str
    amount_field: str | None = None

    @property
    def spec(self) -> AssetClassSpec:
        """The legal rules of its asset class."""
        return ASSET_CLASS_SPECS[self.asset_class]


class _ControlledView(Mapping[str, ControlledDataset]):
    """A read-only, live view of the registered datasets that declare an asset class."""

    def _current(self) -> dict[str, ControlledDataset]:
        # Deferred: the catalog's declarations import this module for AssetClass.
        from connectors.catalog import DATASETS

        found = {}
        for name, spec in DATASETS.items():
            if spec.asset_class is not None and spec.key_field is not None:
                found[name] = ControlledDataset(
                    name, spec.asset_class, spec.key_field, spec.amount_field
                )
        return found

    def __getitem__(self, name: str) -> ControlledDataset:
        return self._current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __repr__(self) -> str:
        return f"CONTROLLED_DATASETS({sorted(self)})"


CONTROLLED_DATASETS: Mapping[str, ControlledDataset] = _ControlledView()
"""Every dataset measures may be ordered on, read from the registered kinds. Enabling
measures on another dataset is its ``asset_class`` in its kind's declaration plus
the agency connector's binding of those assets to its tables (``asset_bindings``)."""


@dataclass(frozen=True, slots=True)
class LegalDocument:
    """A numbered, dated legal document, e.g. ``(2024)豫0823执1234号之二`` of 2024-05-01."""

    number: str
    date: datetime.date

    def to_json(self) -> dict[str, str]:
        """``{"number", "date"}`` with an ISO date."""
        return {"number": self.number, "date": self.date.isoformat()}

    @classmethod
    def from_json(cls, data: object, where: str) -> LegalDocument:
        """The inverse of :meth:`to_json`; ``MalformedMessage`` naming ``where``."""
        body = _obj(data, where)
        date = _date(body.get("date"), f"{where}.date")
        if date is None:
            raise MalformedMessage(f"{where}.date is required")
        return cls(_str(body.get("number"), f"{where}.number"), date)


@dataclass(frozen=True, slots=True)
class AssetRef:
    """One asset as its agency knows it: the dataset and the agency's key for it."""

    dataset: str
    key: str


@dataclass(frozen=True, slots=True)
class MeasureOrder:
    """One control measure ordered of one agency.

    Attributes:
        measure_id: Chosen by the gateway, unique: the idempotency key. The same id
            submitted again is the same order, answered with its current report.
        kind: What is ordered.
        authority: The case and officer it is ordered under.
        subject: Whose asset it is.
        asset: Which asset.
        ruling: The ruling (裁定书) ordering the measure.
        notice: The assistance-enforcement notice (协助执行通知书) served on the agency.
        amount: Money to freeze or deduct, a two-decimal string in yuan; ``None``
            for a whole asset (or "as much as there is" when freezing).
        until: The last day a placement or renewal is in force.
        acts_on: The measure renewed, lifted or deducted from.
    """

    measure_id: str
    kind: MeasureKind
    authority: LegalAuthority
    subject: Subject
    asset: AssetRef
    ruling: LegalDocument
    notice: LegalDocument
    amount: str | None = None
    until: datetime.date | None = None
    acts_on: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain dicts and strings, dates as ISO strings."""
        return {
            "measure_id": self.measure_id,
            "kind": self.kind,
            "authority": {
                "case_number": self.authority.case_number,
                "court_id": self.authority.court_id,
                "officer_id": self.authority.officer_id,
                "document": self.authority.document,
            },
            "subject": self.subject.to_json(),
            "asset": {"dataset": self.asset.dataset, "key": self.asset.key},
            "ruling": self.ruling.to_json(),
            "notice": self.notice.to_json(),
            "amount": self.amount,
            "until": self.until.isoformat() if self.until else None,
            "acts_on": self.acts_on,
        }

    @classmethod
    def from_json(cls, data: object) -> MeasureOrder:
        """The inverse of :meth:`to_json`.

        Raises:
            MalformedMessage: the payload does not have the documented shape.
            InvalidSubject: the subject's identifier is invalid.
        """
        from connectors.sdk import LegalAuthority  # Deferred: see the TYPE_CHECKING import.

        body = _obj(data, "order")
        kind = _str(body.get("kind"), "kind")
        if kind not in MEASURE_KINDS:
            raise MalformedMessage(f"kind must be one of {', '.join(MEASURE_KINDS)}")
        authority = _obj(body.get("authority"), "authority")
        subject = _obj(body.get("subject"), "subject")
        asset = _obj(body.get("asset"), "asset")
        name = subject.get("name")
        amount = body.get("amount")
        if amount is not None:
            parse_money(_str(amount, "amount"), "amount")
        acts_on = body.get("acts_on")
        return cls(
            measure_id=_str(body.get("measure_id"), "measure_id"),
            kind=kind,  # checked against MEASURE_KINDS
            authority=LegalAuthority(
                _str(authority.get("case_number"), "case_number"),
                _str(authority.get("court_id"), "court_id"),
                _str(authority.get("officer_id"), "officer_id"),
                _str(authority.get("document"), "document"),
            ),
            subject=parse_subject(
                _str(subject.get("id_type"), "id_type"),
                _str(subject.get("id_number"), "id_number"),
                None if name is None else _str(name, "name"),
            ),
            asset=AssetRef(_str(asset.get("dataset"), "dataset"), _str(asset.get("key"), "key")),
            ruling=LegalDocument.from_json(body.get("ruling"), "ruling"),
            notice=LegalDocument.from_json(body.get("notice"), "notice"),
            amount=amount,
            until=_date(body.get("until"), "until"),
            acts_on=None if acts_on is None else _str(acts_on, "acts_on"),
        )


@dataclass(frozen=True, slots=True)
class MeasureReport:
    """An agency's account of one measure, now.

    Attributes:
        measure_id: The order's id.
        agency_id: The agency reporting.
        status: ``accepted``, ``rejected``, ``executed``, ``released`` or ``expired``.
        reference: The agency's own reference for the measure (its 回执 number).
        amount: What was actually frozen or deducted (yuan, two decimals).
        reason: Why it was rejected, in words the officer can act on.
        effective_until: The last day the measure is in force, as the agency holds it.
    """

    measure_id: str
    agency_id: str
    status: MeasureStatus
    reference: str | None = None
    amount: str | None = None
    reason: str | None = None
    effective_until: datetime.date | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain dicts and strings."""
        return {
            "measure_id": self.measure_id,
            "agency_id": self.agency_id,
            "status": self.status,
            "reference": self.reference,
            "amount": self.amount,
            "reason": self.reason,
            "effective_until": self.effective_until.isoformat() if self.effective_until else None,
        }

    @classmethod
    def from_json(cls, data: object) -> MeasureReport:
        """The inverse of :meth:`to_json`.

        Raises:
            MalformedMessage: the payload does not have the documented shape.
        """
        body = _obj(data, "report")
        status = _str(body.get("status"), "status")
        if status not in MEASURE_STATUSES or status == "submitted":
            raise MalformedMessage(
                "status must be accepted, rejected, executed, released or expired"
            )
        amount = _optional_str(body.get("amount"), "amount")
        if amount is not None:
            parse_money(amount, "amount")
        return cls(
            measure_id=_str(body.get("measure_id"), "measure_id"),
            agency_id=_str(body.get("agency_id"), "agency_id"),
            status=status,  # checked against MEASURE_STATUSES
            reference=_optional_str(body.get("reference"), "reference"),
            amount=amount,
            reason=_optional_str(body.get("reason"), "reason"),
            effective_until=_date(body.get("effective_until"), "effective_until"),
        )


@runtime_checkable
class ControlConnector(Protocol):
    """An agency that executes control measures (optional, next to ``Connector``)."""

    @property
    def identity(self) -> AgencyIdentity:
        """The agency this connector answers for."""
        ...

    @property
    def controlled(self) -> frozenset[str]:
        """The datasets (of :data:`CONTROLLED_DATASETS`) it accepts measures on."""
        ...

    async def submit(self, order: MeasureOrder) -> MeasureReport:
        """Receive an order; idempotent by ``order.measure_id``.

        Args:
            order: The measure, its legal documents and the asset.

        Returns:
            The measure's report: ``accepted`` (execution follows), ``executed``,
            or ``rejected`` with the reason. A measure id seen before returns its
            current report.

        Raises:
            AgencyRejected: the order is malformed for this agency (a dataset it
                does not control, a measure id reused for another order).
            AgencyUnavailable: the agency's system is down or broken.
            AgencyTimeout: the agency's system did not answer in time.
        """
        ...

    async def reports(self, measure_ids: Sequence[str]) -> list[MeasureReport]:
        """The current reports of measures submitted before (unknown ids are left out).

        Raises:
            AgencyUnavailable: the agency's system is down or broken.
            AgencyTimeout: the agency's system did not answer in time.
        """
        ...


def parse_money(value: str, where: str) -> Decimal:
    """A positive amount in yuan with at most two decimals.

    Raises:
        MalformedMessage: naming ``where``.
    """
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MalformedMessage(f"{where} must be an amount such as 1000.00") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise MalformedMessage(f"{where} must be a positive amount with at most two decimals")
    return amount


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedMessage(f"{where} must be an object")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"{where} must be a non-empty string")
    return value


def _optional_str(value: object, where: str) -> str | None:
    return None if value is None else _str(value, where)


def _date(value: object, where: str) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(_str(value, where))
    except ValueError:
        raise MalformedMessage(f"{where} must be an ISO date") from None
