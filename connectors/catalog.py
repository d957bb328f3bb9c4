"""The catalog of datasets and their fields, declared once.

The gateway plans queries from it, policies name its fields, and the gateway's
mask functions are chosen by each field's ``mask``. Nested fields use dotted
names (``members.name``); a record carries them as a list of dicts under the
first part (``{"members": [{"name": ...}]}``).

Value encodings (all JSON-safe, no floats): ``date`` is ``YYYY-MM-DD``;
``datetime`` is ISO 8601 with offset (``2023-05-01T21:13:00+08:00``); ``money`` is
a string with two decimals (``"12345.67"``, ``"-80.00"``); ``int`` is an integer;
``enum`` is one of the field's ``enum_values``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, TypedDict

__all__ = [
    "DATASETS",
    "AgencyKind",
    "AllowanceRecord",
    "BankAccountRecord",
    "DatasetSpec",
    "FieldSpec",
    "FieldType",
    "HouseholdMemberRecord",
    "HouseholdRecord",
    "LodgingRecord",
    "MarriageRecord",
    "MaskKind",
    "Sensitivity",
    "TaxRefundRecord",
]

AgencyKind = Literal["bank", "tax", "civil_affairs", "public_security"]
FieldType = Literal["string", "date", "datetime", "money", "int", "enum"]
Sensitivity = Literal["low", "medium", "high"]
MaskKind = Literal["account_number", "resident_id", "name", "address", "date_month"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a dataset.

    Attributes:
        name: snake_case, dotted for a nested field (``members.name``).
        type: How the value is encoded (see the module docstring).
        sensitivity: Input to policies.
        mask: The mask the gateway applies when a policy allows only ``readMasked``.
        description: What the field holds, for schema docs.
        enum_values: The allowed values of an ``enum`` field.
        nullable: Whether the value may be ``None``.
    """

    name: str
    type: FieldType
    sensitivity: Sensitivity
    mask: MaskKind | None
    description: str
    enum_values: tuple[str, ...] = ()
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """One dataset: which agency kind serves it and what its records hold.

    Attributes:
        name: ``<agency kind>.<dataset>``, e.g. ``bank.accounts``.
        agency_kind: The kind of agency that serves it.
        fields: Its fields, nested ones dotted.
        record_type: The TypedDict describing one record.
        time_field: The field that ``DatasetQuery.since/until`` filter on, if any.
        description: What the dataset is, for schema docs.
    """

    name: str
    agency_kind: AgencyKind
    fields: tuple[FieldSpec, ...]
    record_type: type
    time_field: str | None = None
    description: str = ""

    @property
    def field_names(self) -> frozenset[str]:
        """The names of all fields, nested ones dotted."""
        return frozenset(spec.name for spec in self.fields)

    def field(self, name: str) -> FieldSpec:
        """The spec of one field; ``KeyError`` if the dataset has no such field."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


class BankAccountRecord(TypedDict, total=False):
    """A record of ``bank.accounts``."""

    bank_name: str
    branch: str
    account_number: str
    account_type: str
    status: str
    currency: str
    balance: str
    opened_on: str


class TaxRefundRecord(TypedDict, total=False):
    """A record of ``tax.refunds``."""

    tax_year: int
    tax_type: str
    amount: str
    refund_account: str
    refund_bank: str
    refund_date: str
    status: str


class MarriageRecord(TypedDict, total=False):
    """A record of ``civil_affairs.marriages``: one registration (marriage or divorce)."""

    status: str
    registered_on: str
    office: str
    spouse_name: str
    spouse_id_number: str


class AllowanceRecord(TypedDict, total=False):
    """A record of ``civil_affairs.allowances``."""

    program: str
    monthly_amount: str
    start_date: str
    end_date: str | None
    status: str


class HouseholdMemberRecord(TypedDict, total=False):
    """One member inside a ``public_security.household`` record."""

    name: str
    relation: str
    id_number: str
    birth_date: str


class HouseholdRecord(TypedDict, total=False):
    """A record of ``public_security.household`` (at most one per subject)."""

    household_number: str
    address: str
    head_name: str
    members: list[HouseholdMemberRecord]


class LodgingRecord(TypedDict, total=False):
    """A record of ``public_security.lodging``."""

    hotel: str
    city: str
    address: str
    check_in: str
    check_out: str | None


def _f(
    name: str,
    type_: FieldType,
    sensitivity: Sensitivity,
    description: str,
    *,
    mask: MaskKind | None = None,
    enum: tuple[str, ...] = (),
    nullable: bool = False,
) -> FieldSpec:
    return FieldSpec(name, type_, sensitivity, mask, description, enum, nullable)


_BANK_ACCOUNTS = DatasetSpec(
    "bank.accounts",
    "bank",
    (
        _f("bank_name", "string", "low", "Bank, e.g. 中国工商银行"),
        _f("branch", "string", "low", "Branch that opened the account"),
        _f("account_number", "string", "high", "Account or card number", mask="account_number"),
        _f(
            "account_type",
            "enum",
            "low",
            "Kind of account: debit card, credit card, time deposit, corporate current",
            enum=("debit", "credit", "deposit", "current"),
        ),
        _f(
            "status",
            "enum",
            "medium",
            "Account status",
            enum=("normal", "frozen", "dormant", "closed"),
        ),
        _f("currency", "string", "low", "ISO 4217 currency code"),
        _f("balance", "money", "high", "Balance; negative for credit debt"),
        _f("opened_on", "date", "low", "Date the account was opened"),
    ),
    BankAccountRecord,
    description="Accounts held by the subject",
)

_TAX_REFUNDS = DatasetSpec(
    "tax.refunds",
    "tax",
    (
        _f("tax_year", "int", "low", "Tax year the refund belongs to"),
        _f("tax_type", "string", "low", "Tax, e.g. 个人所得税, 增值税"),
        _f("amount", "money", "high", "Refund amount"),
        _f("refund_account", "string", "high", "Account paid into", mask="account_number"),
        _f("refund_bank", "string", "medium", "Bank of the refund account"),
        _f("refund_date", "date", "low", "Date paid or due"),
        _f("status", "enum", "low", "Refund status", enum=("pending", "paid", "rejected")),
    ),
    TaxRefundRecord,
    description="Tax refunds due or paid to the subject",
)

_MARRIAGES = DatasetSpec(
    "civil_affairs.marriages",
    "civil_affairs",
    (
        _f("status", "enum", "low", "What was registered", enum=("married", "divorced")),
        _f("registered_on", "date", "low", "Registration date"),
        _f("office", "string", "low", "Registration office"),
        _f("spouse_name", "string", "medium", "Name of the (former) spouse", mask="name"),
        _f("spouse_id_number", "string", "high", "Spouse's ID number", mask="resident_id"),
    ),
    MarriageRecord,
    description="Marriage and divorce registrations",
)

_ALLOWANCES = DatasetSpec(
    "civil_affairs.allowances",
    "civil_affairs",
    (
        _f("program", "string", "medium", "Programme, e.g. 城市最低生活保障"),
        _f("monthly_amount", "money", "medium", "Monthly amount"),
        _f("start_date", "date", "low", "First month paid"),
        _f("end_date", "date", "low", "Last month paid; null while running", nullable=True),
        _f("status", "enum", "low", "Allowance status", enum=("active", "suspended", "ended")),
    ),
    AllowanceRecord,
    description="Social assistance paid to the subject",
)

_HOUSEHOLD = DatasetSpec(
    "public_security.household",
    "public_security",
    (
        _f("household_number", "string", "medium", "Household register number (户号)"),
        _f("address", "string", "high", "Registered address", mask="address"),
        _f("head_name", "string", "medium", "Head of household", mask="name"),
        _f("members.name", "string", "medium", "Member name", mask="name"),
        _f("members.relation", "string", "low", "Relation to the head, e.g. 配偶"),
        _f("members.id_number", "string", "high", "Member ID number", mask="resident_id"),
        _f("members.birth_date", "date", "medium", "Member birth date", mask="date_month"),
    ),
    HouseholdRecord,
    description="The household (户口) the subject is registered in",
)

_LODGING = DatasetSpec(
    "public_security.lodging",
    "public_security",
    (
        _f("hotel", "string", "medium", "Hotel name"),
        _f("city", "string", "low", "City"),
        _f("address", "string", "medium", "Hotel address", mask="address"),
        _f("check_in", "datetime", "medium", "Check-in time"),
        _f("check_out", "datetime", "medium", "Check-out time", nullable=True),
    ),
    LodgingRecord,
    time_field="check_in",
    description="Hotel stays registered by the subject",
)

DATASETS: Mapping[str, DatasetSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (_BANK_ACCOUNTS, _TAX_REFUNDS, _MARRIAGES, _ALLOWANCES, _HOUSEHOLD, _LODGING)
    }
)
"""Every dataset, by name."""
