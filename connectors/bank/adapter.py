"""The bank connector over a core-banking style schema.

The layout follows host banking systems: terse column names, dates as
``CHAR(8)`` ``YYYYMMDD``, balances in integer cents, status and currency as codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy import CHAR, BigInteger, Column, Connection, MetaData, String, Table

from connectors.control_ledger import AssetBinding
from connectors.sdk import DatasetQuery, Record, Subject
from connectors.sql import (
    FieldColumn,
    SqlConnector,
    coded,
    iso_date,
    money_from_cents,
    select_fields,
    text,
)

__all__ = [
    "ACCT_STAT_CODES",
    "ACCT_TYPE_CODES",
    "ASSETS",
    "CCY_CODES",
    "BankConnector",
    "metadata",
]

metadata = MetaData()

t_brch = Table(
    "t_brch",
    metadata,
    Column("brch_no", CHAR(6), primary_key=True),
    Column("brch_nm", String(64), nullable=False),
    Column("bank_nm", String(32), nullable=False),
)

t_acct = Table(
    "t_acct",
    metadata,
    Column("acct_no", String(32), primary_key=True),
    Column("cust_cert_tp", CHAR(2), nullable=False),  # 01 居民身份证, 49 统一社会信用代码
    Column("cust_cert_no", String(18), nullable=False, index=True),
    Column("cust_nm", String(100), nullable=False),
    Column("acct_tp_cd", CHAR(1), nullable=False),
    Column("acct_stat_cd", CHAR(1), nullable=False),
    Column("ccy_cd", CHAR(3), nullable=False),
    Column("bal_cents", BigInteger, nullable=False),
    Column("open_dt", CHAR(8), nullable=False),
    Column("brch_no", CHAR(6), nullable=False),
)

ACCT_TYPE_CODES: Mapping[str, str] = {
    "D": "debit",
    "C": "credit",
    "T": "deposit",
    "S": "current",
}
ACCT_STAT_CODES: Mapping[str, str] = {"0": "normal", "1": "frozen", "2": "dormant", "9": "closed"}
CCY_CODES: Mapping[str, str] = {"156": "CNY", "840": "USD", "978": "EUR", "344": "HKD"}

_ACCOUNT_FIELDS: Mapping[str, FieldColumn] = {
    "bank_name": FieldColumn(t_brch.c.bank_nm, text),
    "branch": FieldColumn(t_brch.c.brch_nm, text),
    "account_number": FieldColumn(t_acct.c.acct_no, text),
    "account_type": FieldColumn(t_acct.c.acct_tp_cd, coded(ACCT_TYPE_CODES)),
    "status": FieldColumn(t_acct.c.acct_stat_cd, coded(ACCT_STAT_CODES)),
    "currency": FieldColumn(t_acct.c.ccy_cd, coded(CCY_CODES)),
    "balance": FieldColumn(t_acct.c.bal_cents, money_from_cents),
    "opened_on": FieldColumn(t_acct.c.open_dt, iso_date),
}

ASSETS: Mapping[str, AssetBinding] = {
    "bank.accounts": AssetBinding(t_acct.c.acct_no, t_acct.c.cust_cert_no, t_acct.c.bal_cents),
}
"""Deposits are frozen and deducted by account number; balances are in cents."""


class BankConnector(SqlConnector):
    """Serves ``bank.accounts`` for one bank."""

    kind = "bank"
    served = frozenset({"bank.accounts"})
    asset_bindings: ClassVar[Mapping[str, AssetBinding]] = ASSETS

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's accounts, oldest first."""
        stmt, to_record = select_fields(_ACCOUNT_FIELDS, query.fields)
        stmt = (
            stmt.select_from(t_acct.join(t_brch, t_acct.c.brch_no == t_brch.c.brch_no))
            .where(t_acct.c.cust_cert_no == subject.id_number)
            .order_by(t_acct.c.open_dt, t_acct.c.acct_no)
        )
        return [to_record(row) for row in connection.execute(stmt)]
