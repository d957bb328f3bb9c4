"""A test-only agency kind, as an agency would ship its own: one declaration and its connector.

Pawnshops (典当行) are not a credgate kind; ``[kinds] pawnshop =
"tests.pawnshop_kind:KIND"`` makes the gateway plan, decide, fetch and shape
their data with no other change (tests/test_kind_config.py).
"""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy import CHAR, Column, Connection, MetaData, Numeric, String, Table

from connectors.catalog import field_spec
from connectors.sdk import (
    AgencyKindSpec,
    DatasetQuery,
    DatasetSpec,
    GraphQLShape,
    Record,
    Subject,
)
from connectors.sql import FieldColumn, SqlConnector, coded, iso_date, money, select_fields, text

metadata = MetaData()

pledge = Table(
    "pledge",
    metadata,
    Column("ticket_no", String(16), primary_key=True),
    Column("holder_id", CHAR(18), nullable=False),
    Column("item", String(64), nullable=False),
    Column("appraised", Numeric(12, 2), nullable=False),
    Column("loan", Numeric(12, 2), nullable=False),
    Column("pledged_dt", CHAR(8), nullable=False),
    Column("state", CHAR(1), nullable=False),
)


class PledgeRecord(TypedDict, total=False):
    """A record of ``pawnshop.pledges``."""

    ticket_number: str
    item: str
    appraised_value: str
    loan_amount: str
    pledged_on: str
    status: str


PLEDGES = DatasetSpec(
    "pawnshop.pledges",
    "pawnshop",
    (
        field_spec("ticket_number", "string", "medium", "Pawn ticket", mask="account_number"),
        field_spec("item", "string", "low", "What was pledged"),
        field_spec("appraised_value", "money", "high", "Appraised value"),
        field_spec("loan_amount", "money", "medium", "Amount lent"),
        field_spec("pledged_on", "date", "low", "Date pledged"),
        field_spec("status", "enum", "low", "Pledge status", enum=("active", "redeemed")),
    ),
    PledgeRecord,
    description="Goods the subject pledged",
    graphql=GraphQLShape(
        "pawnPledges", "PawnPledge", "Goods pledged at a pawnshop.", "Goods pledged at pawnshops."
    ),
    key_field="ticket_number",
    amount_field="appraised_value",
)


class PawnshopConnector(SqlConnector):
    """Serves ``pawnshop.pledges``."""

    kind = "pawnshop"
    served = frozenset({"pawnshop.pledges"})

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's pledges."""
        columns = {
            "ticket_number": FieldColumn(pledge.c.ticket_no, text),
            "item": FieldColumn(pledge.c.item, text),
            "appraised_value": FieldColumn(pledge.c.appraised, money),
            "loan_amount": FieldColumn(pledge.c.loan, money),
            "pledged_on": FieldColumn(pledge.c.pledged_dt, iso_date),
            "status": FieldColumn(pledge.c.state, coded({"A": "active", "R": "redeemed"})),
        }
        stmt, to_record = select_fields(columns, query.fields)
        stmt = stmt.where(pledge.c.holder_id == subject.id_number).order_by(pledge.c.ticket_no)
        return [to_record(row) for row in connection.execute(stmt)]


KIND = AgencyKindSpec(
    "pawnshop", "Pawnshops", (PLEDGES,), connector="tests.pawnshop_kind:PawnshopConnector"
)

POLICY = """// Pawnshop policies: pledges are read, the ticket masked, the appraisal withheld.
@id("pawnshop.officer-pledges-read")
permit (
  principal is Credgate::Officer,
  action == Credgate::Action::"read",
  resource in Credgate::Dataset::"pawnshop.pledges"
)
when {
  ["item", "loan_amount", "pledged_on", "status"].contains(resource.name) &&
  context.caseOpen && context.officerAssigned && context.subjectIsRespondent
};

@id("pawnshop.officer-ticket-masked")
permit (
  principal is Credgate::Officer,
  action == Credgate::Action::"readMasked",
  resource == Credgate::Field::"pawnshop.pledges.ticket_number"
)
when { context.caseOpen && context.officerAssigned && context.subjectIsRespondent };

@id("pawnshop.appraisal-withheld")
forbid (
  principal,
  action,
  resource == Credgate::Field::"pawnshop.pledges.appraised_value"
);
"""
"""``pawnshop.cedar``, as the agency would write it."""
