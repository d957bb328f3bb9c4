"""The record types (TypedDicts) of the first datasets, re-exported by the SDK.

Kinds declared later keep their record types next to their declaration
(``connectors/<kind>/kind.py``).
"""

from __future__ import annotations

from typing import TypedDict

__all__ = [
    "AllowanceRecord",
    "BankAccountRecord",
    "HouseholdMemberRecord",
    "HouseholdRecord",
    "LodgingRecord",
    "MarriageRecord",
    "TaxRefundRecord",
]


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
