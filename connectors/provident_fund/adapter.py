"""The provident fund connector over a housing fund centre's account table.

Housing fund systems key a personal account (个人账户, ``grzh``) by the
holder's ID number, name the paying employer (单位), keep amounts as NUMERIC
yuan and dates as ``CHAR(8)`` ``YYYYMMDD``; the account state is a code.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import CHAR, Column, Connection, MetaData, Numeric, String, Table

from connectors.control_ledger import AssetBinding
from connectors.sdk import DatasetQuery, Record, Subject
from connectors.sql import FieldColumn, SqlConnector, coded, iso_date, money, select_fields, text

__all__ = ["ACCOUNT_STATE_CODES", "ASSETS", "ProvidentFundConnector", "metadata"]

metadata = MetaData()

gjj_grzh = Table(  # 个人账户
    "gjj_grzh",
    metadata,
    Column("grzh", String(20), primary_key=True),  # 个人账号
    Column("zjhm", CHAR(18), nullable=False, index=True),  # 证件号码
    Column("xingming", String(50), nullable=False),
    Column("dwmc", String(100), nullable=False),  # 单位名称
    Column("grzhye", Numeric(15, 2), nullable=False),  # 个人账户余额
    Column("yjce", Numeric(10, 2), nullable=False),  # 月缴存额
    Column("khrq", CHAR(8), nullable=False),  # 开户日期
    Column("grzhzt", CHAR(1), nullable=False),  # 个人账户状态
)

ACCOUNT_STATE_CODES: Mapping[str, str] = {
    "1": "normal",  # 正常
    "2": "dormant",  # 封存
    "3": "frozen",  # 冻结
    "9": "closed",  # 销户
}

_ACCOUNT_FIELDS: Mapping[str, FieldColumn] = {
    "account_number": FieldColumn(gjj_grzh.c.grzh, text),
    "employer": FieldColumn(gjj_grzh.c.dwmc, text),
    "balance": FieldColumn(gjj_grzh.c.grzhye, money),
    "monthly_deposit": FieldColumn(gjj_grzh.c.yjce, money),
    "opened_on": FieldColumn(gjj_grzh.c.khrq, iso_date),
    "status": FieldColumn(gjj_grzh.c.grzhzt, coded(ACCOUNT_STATE_CODES)),
}


def _yuan_to_cents(value: Any) -> int:
    return int(Decimal(value) * 100)


ASSETS: Mapping[str, AssetBinding] = {
    "provident_fund.accounts": AssetBinding(
        gjj_grzh.c.grzh, gjj_grzh.c.zjhm, gjj_grzh.c.grzhye, _yuan_to_cents
    ),
}
"""Fund balances are frozen and deducted by personal account number (个人账号); in yuan."""


class ProvidentFundConnector(SqlConnector):
    """Serves ``provident_fund.accounts`` for one housing fund centre."""

    kind = "provident_fund"
    served = frozenset({"provident_fund.accounts"})
    asset_bindings: ClassVar[Mapping[str, AssetBinding]] = ASSETS

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's accounts, oldest first."""
        stmt, to_record = select_fields(_ACCOUNT_FIELDS, query.fields)
        stmt = stmt.where(gjj_grzh.c.zjhm == subject.id_number).order_by(
            gjj_grzh.c.khrq, gjj_grzh.c.grzh
        )
        return [to_record(row) for row in connection.execute(stmt)]
