"""The ``market_regulation`` agency kind (市场监管): equity and company posts, declared once."""

from __future__ import annotations

from typing import TypedDict

from connectors.catalog import AgencyKindSpec, DatasetSpec, GraphQLShape, field_spec

__all__ = ["KIND", "CompanyPostRecord", "EquityHoldingRecord"]


class EquityHoldingRecord(TypedDict, total=False):
    """A record of ``market_regulation.equity``: the subject's stake in one company."""

    holding_id: str
    company_name: str
    credit_code: str
    share_percent: str
    subscribed_capital: str
    paid_in_capital: str
    registered_on: str
    status: str


class CompanyPostRecord(TypedDict, total=False):
    """A record of ``market_regulation.posts``: a post the subject holds in a company."""

    company_name: str
    credit_code: str
    post: str
    appointed_on: str
    company_status: str


_COMPANY_STATUS = ("operating", "revoked", "deregistered")

EQUITY = DatasetSpec(
    "market_regulation.equity",
    "market_regulation",
    (
        field_spec("holding_id", "string", "low", "Registration id of the holding (股权登记编号)"),
        field_spec("company_name", "string", "low", "Company the stake is in"),
        field_spec("credit_code", "string", "low", "The company's unified social credit code"),
        field_spec("share_percent", "decimal", "medium", "Share of the company in percent"),
        field_spec("subscribed_capital", "money", "medium", "Capital subscribed (认缴出资额)"),
        field_spec("paid_in_capital", "money", "medium", "Capital paid in (实缴出资额)"),
        field_spec("registered_on", "date", "low", "Date the holding was registered"),
        field_spec(
            "status",
            "enum",
            "medium",
            "normal, frozen (股权冻结) or pledged (股权出质)",
            enum=("normal", "frozen", "pledged"),
        ),
    ),
    EquityHoldingRecord,
    description="Equity the subject holds in companies",
    graphql=GraphQLShape(
        "equityHoldings",
        "EquityHolding",
        "A stake the subject holds in a company (股权).",
        "Equity held in companies.",
    ),
    key_field="holding_id",
    amount_field="subscribed_capital",
    asset_class="equity",
)

POSTS = DatasetSpec(
    "market_regulation.posts",
    "market_regulation",
    (
        field_spec("company_name", "string", "low", "Company"),
        field_spec("credit_code", "string", "low", "The company's unified social credit code"),
        field_spec(
            "post",
            "enum",
            "low",
            "Legal representative (法定代表人), director, supervisor or manager",
            enum=("legal_representative", "director", "supervisor", "manager"),
        ),
        field_spec("appointed_on", "date", "low", "Date the post was registered"),
        field_spec("company_status", "enum", "low", "The company's status", enum=_COMPANY_STATUS),
    ),
    CompanyPostRecord,
    description="Posts the subject holds in companies",
    graphql=GraphQLShape(
        "companyPosts",
        "CompanyPost",
        "A post the subject holds in a company (法定代表人, 董事, 监事, 经理).",
        "Legal-representative, director, supervisor and manager posts.",
    ),
)

KIND = AgencyKindSpec(
    "market_regulation",
    "Market regulation administrations (市场监督管理局)",
    (EQUITY, POSTS),
    connector="connectors.market_regulation.adapter:MarketRegulationConnector",
)
"""Market regulation administrations: equity holdings and company posts."""
