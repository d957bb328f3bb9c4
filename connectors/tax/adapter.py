"""The tax connector over a Golden Tax (金税) style refund table.

Columns use the pinyin initials tax systems use (``nsrsbh`` 纳税人识别号,
``tkje`` 退库金额 ...); amounts are NUMERIC yuan, status a two-digit code.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import (
    CHAR,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)

from connectors.sdk import DatasetQuery, Record, Subject
from connectors.sql import FieldColumn, SqlConnector, coded, iso_date, money, select_fields, text

__all__ = ["REFUND_STATUS_CODES", "TaxConnector", "metadata"]

metadata = MetaData()

refund_record = Table(
    "refund_record",
    metadata,
    Column("tksqxh", String(24), primary_key=True),  # 退库申请序号
    Column("nsrsbh", String(20), nullable=False, index=True),  # 纳税人识别号
    Column("nsrmc", String(100), nullable=False),  # 纳税人名称
    Column("skssnd", Integer, nullable=False),  # 税款所属年度
    Column("zsxm_mc", String(32), nullable=False),  # 征收项目名称
    Column("tkje", Numeric(14, 2), nullable=False),  # 退库金额 (元)
    Column("skrzh", String(32), nullable=False),  # 收款人账号
    Column("skyh_mc", String(64), nullable=False),  # 收款银行名称
    Column("tkrq", Date, nullable=False),  # 退库日期
    Column("tkzt_dm", CHAR(2), nullable=False),  # 退库状态代码
)

REFUND_STATUS_CODES: Mapping[str, str] = {"01": "pending", "02": "paid", "03": "rejected"}

_REFUND_FIELDS: Mapping[str, FieldColumn] = {
    "tax_year": FieldColumn(refund_record.c.skssnd, int),
    "tax_type": FieldColumn(refund_record.c.zsxm_mc, text),
    "amount": FieldColumn(refund_record.c.tkje, money),
    "refund_account": FieldColumn(refund_record.c.skrzh, text),
    "refund_bank": FieldColumn(refund_record.c.skyh_mc, text),
    "refund_date": FieldColumn(refund_record.c.tkrq, iso_date),
    "status": FieldColumn(refund_record.c.tkzt_dm, coded(REFUND_STATUS_CODES)),
}


class TaxConnector(SqlConnector):
    """Serves ``tax.refunds`` for a tax bureau."""

    kind = "tax"
    served = frozenset({"tax.refunds"})

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's refunds, oldest first."""
        stmt, to_record = select_fields(_REFUND_FIELDS, query.fields)
        stmt = stmt.where(refund_record.c.nsrsbh == subject.id_number).order_by(
            refund_record.c.tkrq, refund_record.c.tksqxh
        )
        return [to_record(row) for row in connection.execute(stmt)]
