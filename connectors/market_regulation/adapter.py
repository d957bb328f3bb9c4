"""The market regulation connector over an enterprise register (企业登记).

``qy_jbxx`` holds each company (企业基本信息) by unified social credit code,
``qy_tzr`` its investors (投资人) with the holding's registration id, share and
capital, ``qy_zyry`` its principal personnel (主要人员) with their post code.
Investors and personnel are found by their certificate number (证件号码).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy import CHAR, Column, Connection, Date, MetaData, Numeric, String, Table

from connectors.control_ledger import AssetBinding
from connectors.sdk import DatasetQuery, Record, Subject
from connectors.sql import FieldColumn, SqlConnector, coded, iso_date, money, select_fields, text

__all__ = [
    "ASSETS",
    "COMPANY_STATUS_CODES",
    "HOLDING_STATUS_CODES",
    "POST_CODES",
    "MarketRegulationConnector",
    "metadata",
]

metadata = MetaData()

qy_jbxx = Table(  # 企业基本信息
    "qy_jbxx",
    metadata,
    Column("tyshxydm", CHAR(18), primary_key=True),  # 统一社会信用代码
    Column("qymc", String(100), nullable=False),  # 企业名称
    Column("djzt", CHAR(1), nullable=False),  # 登记状态
)

qy_tzr = Table(  # 投资人
    "qy_tzr",
    metadata,
    Column("gqdjbh", String(24), primary_key=True),  # 股权登记编号
    Column("tyshxydm", CHAR(18), nullable=False),
    Column("tzrzjhm", String(18), nullable=False, index=True),  # 投资人证件号码
    Column("tzrmc", String(100), nullable=False),
    Column("cgbl", Numeric(5, 2), nullable=False),  # 持股比例 (%)
    Column("rjcze", Numeric(18, 2), nullable=False),  # 认缴出资额 (元)
    Column("sjcze", Numeric(18, 2), nullable=False),  # 实缴出资额 (元)
    Column("djrq", Date, nullable=False),
    Column("gqzt", CHAR(1), nullable=False),  # 股权状态
)

qy_zyry = Table(  # 主要人员
    "qy_zyry",
    metadata,
    Column("ryxh", String(24), primary_key=True),  # 人员序号
    Column("tyshxydm", CHAR(18), nullable=False),
    Column("zjhm", String(18), nullable=False, index=True),
    Column("xm", String(50), nullable=False),
    Column("zwdm", CHAR(2), nullable=False),  # 职务代码
    Column("rzrq", Date, nullable=False),  # 任职日期
)

COMPANY_STATUS_CODES: Mapping[str, str] = {"1": "operating", "2": "revoked", "3": "deregistered"}
HOLDING_STATUS_CODES: Mapping[str, str] = {"0": "normal", "1": "frozen", "2": "pledged"}
POST_CODES: Mapping[str, str] = {
    "01": "legal_representative",
    "02": "director",
    "03": "supervisor",
    "04": "manager",
}

_EQUITY_FIELDS: Mapping[str, FieldColumn] = {
    "holding_id": FieldColumn(qy_tzr.c.gqdjbh, text),
    "company_name": FieldColumn(qy_jbxx.c.qymc, text),
    "credit_code": FieldColumn(qy_tzr.c.tyshxydm, text),
    "share_percent": FieldColumn(qy_tzr.c.cgbl, money),
    "subscribed_capital": FieldColumn(qy_tzr.c.rjcze, money),
    "paid_in_capital": FieldColumn(qy_tzr.c.sjcze, money),
    "registered_on": FieldColumn(qy_tzr.c.djrq, iso_date),
    "status": FieldColumn(qy_tzr.c.gqzt, coded(HOLDING_STATUS_CODES)),
}

_POST_FIELDS: Mapping[str, FieldColumn] = {
    "company_name": FieldColumn(qy_jbxx.c.qymc, text),
    "credit_code": FieldColumn(qy_zyry.c.tyshxydm, text),
    "post": FieldColumn(qy_zyry.c.zwdm, coded(POST_CODES)),
    "appointed_on": FieldColumn(qy_zyry.c.rzrq, iso_date),
    "company_status": FieldColumn(qy_jbxx.c.djzt, coded(COMPANY_STATUS_CODES)),
}


ASSETS: Mapping[str, AssetBinding] = {
    "market_regulation.equity": AssetBinding(qy_tzr.c.gqdjbh, qy_tzr.c.tzrzjhm),
}
"""A holding is frozen whole (股权冻结), by its registration id, if the subject is its investor."""


class MarketRegulationConnector(SqlConnector):
    """Serves ``market_regulation.equity`` and ``market_regulation.posts``."""

    kind = "market_regulation"
    served = frozenset({"market_regulation.equity", "market_regulation.posts"})
    asset_bindings: ClassVar[Mapping[str, AssetBinding]] = ASSETS

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's holdings or posts, oldest first."""
        if dataset == "market_regulation.equity":
            stmt, to_record = select_fields(_EQUITY_FIELDS, query.fields)
            stmt = (
                stmt.select_from(qy_tzr.join(qy_jbxx, qy_jbxx.c.tyshxydm == qy_tzr.c.tyshxydm))
                .where(qy_tzr.c.tzrzjhm == subject.id_number)
                .order_by(qy_tzr.c.djrq, qy_tzr.c.gqdjbh)
            )
        else:
            stmt, to_record = select_fields(_POST_FIELDS, query.fields)
            stmt = (
                stmt.select_from(qy_zyry.join(qy_jbxx, qy_jbxx.c.tyshxydm == qy_zyry.c.tyshxydm))
                .where(qy_zyry.c.zjhm == subject.id_number)
                .order_by(qy_zyry.c.rzrq, qy_zyry.c.ryxh)
            )
        return [to_record(row) for row in connection.execute(stmt)]
