"""The ``provident_fund`` agency kind (住房公积金): accounts, declared once."""

from __future__ import annotations

from typing import TypedDict

from connectors.catalog import AgencyKindSpec, DatasetSpec, GraphQLShape, field_spec

__all__ = ["KIND", "ProvidentFundAccountRecord"]


class ProvidentFundAccountRecord(TypedDict, total=False):
    """A record of ``provident_fund.accounts``: one personal housing fund account."""

    account_number: str
    employer: str
    balance: str
    monthly_deposit: str
    opened_on: str
    status: str


ACCOUNTS = DatasetSpec(
    "provident_fund.accounts",
    "provident_fund",
    (
        field_spec(
            "account_number",
            "string",
            "high",
            "Personal fund account number",
            mask="account_number",
        ),
        field_spec("employer", "string", "low", "Employer paying into the account"),
        field_spec("balance", "money", "high", "Balance"),
        field_spec(
            "monthly_deposit", "money", "medium", "Monthly deposit, employer and employee together"
        ),
        field_spec("opened_on", "date", "low", "Date the account was opened"),
        field_spec(
            "status",
            "enum",
            "medium",
            "normal (正常), dormant after the job ended (封存), frozen (冻结) or closed (销户)",
            enum=("normal", "dormant", "frozen", "closed"),
        ),
    ),
    ProvidentFundAccountRecord,
    description="Housing provident fund accounts of the subject",
    graphql=GraphQLShape(
        "providentFundAccounts",
        "ProvidentFundAccount",
        "A housing provident fund account (住房公积金账户).",
        "Housing provident fund accounts.",
    ),
    key_field="account_number",
    amount_field="balance",
    asset_class="provident_fund",
)

KIND = AgencyKindSpec(
    "provident_fund",
    "Housing provident fund centres (住房公积金管理中心)",
    (ACCOUNTS,),
    connector="connectors.provident_fund.adapter:ProvidentFundConnector",
)
"""Housing provident fund centres: personal accounts."""
