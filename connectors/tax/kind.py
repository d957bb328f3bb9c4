"""The ``tax`` agency kind: its dataset and connector, declared once."""

from __future__ import annotations

from connectors.catalog import (
    AgencyKindSpec,
    DatasetSpec,
    GraphQLShape,
    TaxRefundRecord,
    field_spec,
)

__all__ = ["KIND"]

REFUNDS = DatasetSpec(
    "tax.refunds",
    "tax",
    (
        field_spec("tax_year", "int", "low", "Tax year the refund belongs to"),
        field_spec("tax_type", "string", "low", "Tax, e.g. 个人所得税, 增值税"),
        field_spec("amount", "money", "high", "Refund amount"),
        field_spec("refund_account", "string", "high", "Account paid into", mask="account_number"),
        field_spec("refund_bank", "string", "medium", "Bank of the refund account"),
        field_spec("refund_date", "date", "low", "Date paid or due"),
        field_spec("status", "enum", "low", "Refund status", enum=("pending", "paid", "rejected")),
    ),
    TaxRefundRecord,
    description="Tax refunds due or paid to the subject",
    graphql=GraphQLShape(
        "taxRefunds", "TaxRefund", "A tax refund due or paid.", "Tax refunds due or paid."
    ),
    amount_field="amount",
)

KIND = AgencyKindSpec(
    "tax", "Tax bureaus", (REFUNDS,), connector="connectors.tax.adapter:TaxConnector"
)
"""Tax bureaus: refunds due or paid."""
