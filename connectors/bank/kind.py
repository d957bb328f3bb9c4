"""The ``bank`` agency kind: its dataset and connector, declared once."""

from __future__ import annotations

from connectors.catalog import (
    AgencyKindSpec,
    BankAccountRecord,
    DatasetSpec,
    GraphQLShape,
    field_spec,
)

__all__ = ["KIND"]

ACCOUNTS = DatasetSpec(
    "bank.accounts",
    "bank",
    (
        field_spec("bank_name", "string", "low", "Bank, e.g. 中国工商银行"),
        field_spec("branch", "string", "low", "Branch that opened the account"),
        field_spec(
            "account_number", "string", "high", "Account or card number", mask="account_number"
        ),
        field_spec(
            "account_type",
            "enum",
            "low",
            "Kind of account: debit card, credit card, time deposit, corporate current",
            enum=("debit", "credit", "deposit", "current"),
        ),
        field_spec(
            "status",
            "enum",
            "medium",
            "Account status",
            enum=("normal", "frozen", "dormant", "closed"),
        ),
        field_spec("currency", "string", "low", "ISO 4217 currency code"),
        field_spec("balance", "money", "high", "Balance; negative for credit debt"),
        field_spec("opened_on", "date", "low", "Date the account was opened"),
    ),
    BankAccountRecord,
    description="Accounts held by the subject",
    graphql=GraphQLShape(
        "bankAccounts",
        "BankAccount",
        "An account at a bank.",
        "Accounts at every bank.",
        renames={"bank_name": "bank"},
    ),
    key_field="account_number",
    amount_field="balance",
    asset_class="deposit",
)

KIND = AgencyKindSpec(
    "bank", "Banks", (ACCOUNTS,), connector="connectors.bank.adapter:BankConnector"
)
"""Banks: deposit, card and corporate accounts."""
