"""The civil affairs connector: marriage registrations and social assistance.

Marriage registrations follow the national registration system's layout: one
row per registration with the male and female party side by side and a
business-type code (``IA`` 结婚登记, ``IB`` 离婚登记). Assistance months are
``CHAR(6)`` ``YYYYMM`` and amounts NUMERIC yuan.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from sqlalchemy import CHAR, Column, Connection, Date, MetaData, Numeric, String, Table, case

from connectors.sdk import DatasetQuery, JSONValue, Record, Subject
from connectors.sql import FieldColumn, SqlConnector, coded, iso_date, money, select_fields, text

__all__ = ["ALLOWANCE_STATUS_CODES", "REGISTRATION_CODES", "CivilAffairsConnector", "metadata"]

metadata = MetaData()

hydj_xx = Table(  # 婚姻登记信息
    "hydj_xx",
    metadata,
    Column("djxh", String(24), primary_key=True),  # 登记序号
    Column("ywlx", String(3), nullable=False),  # 业务类型
    Column("djrq", Date, nullable=False),  # 登记日期
    Column("djjg_mc", String(64), nullable=False),  # 登记机关名称
    Column("nf_xm", String(50), nullable=False),  # 男方姓名
    Column("nf_sfzh", CHAR(18), nullable=False, index=True),  # 男方身份证号
    Column("nvf_xm", String(50), nullable=False),  # 女方姓名
    Column("nvf_sfzh", CHAR(18), nullable=False, index=True),  # 女方身份证号
)

jz_dbdx = Table(  # 救助对象 (最低生活保障等)
    "jz_dbdx",
    metadata,
    Column("dxbh", String(24), primary_key=True),  # 对象编号
    Column("sfzh", CHAR(18), nullable=False, index=True),
    Column("xm", String(50), nullable=False),
    Column("jzlb_mc", String(32), nullable=False),  # 救助类别名称
    Column("yjzje", Numeric(10, 2), nullable=False),  # 月救助金额
    Column("ksny", CHAR(6), nullable=False),  # 开始年月
    Column("jsny", CHAR(6), nullable=True),  # 结束年月
    Column("zt_dm", CHAR(1), nullable=False),  # 状态代码
)

REGISTRATION_CODES: Mapping[str, str] = {"IA": "married", "IB": "divorced"}
ALLOWANCE_STATUS_CODES: Mapping[str, str] = {"1": "active", "2": "suspended", "3": "ended"}


def _month(value: Any) -> JSONValue:
    """``YYYYMM`` to the ISO date of the month's first day."""
    if value is None:
        return None
    return datetime.datetime.strptime(str(value).strip(), "%Y%m").date().isoformat()


def _marriage_fields(id_number: str) -> Mapping[str, FieldColumn]:
    # The spouse is whichever party the subject is not.
    subject_is_male = hydj_xx.c.nf_sfzh == id_number
    return {
        "status": FieldColumn(hydj_xx.c.ywlx, coded(REGISTRATION_CODES)),
        "registered_on": FieldColumn(hydj_xx.c.djrq, iso_date),
        "office": FieldColumn(hydj_xx.c.djjg_mc, text),
        "spouse_name": FieldColumn(
            case((subject_is_male, hydj_xx.c.nvf_xm), else_=hydj_xx.c.nf_xm), text
        ),
        "spouse_id_number": FieldColumn(
            case((subject_is_male, hydj_xx.c.nvf_sfzh), else_=hydj_xx.c.nf_sfzh), text
        ),
    }


_ALLOWANCE_FIELDS: Mapping[str, FieldColumn] = {
    "program": FieldColumn(jz_dbdx.c.jzlb_mc, text),
    "monthly_amount": FieldColumn(jz_dbdx.c.yjzje, money),
    "start_date": FieldColumn(jz_dbdx.c.ksny, _month),
    "end_date": FieldColumn(jz_dbdx.c.jsny, _month),
    "status": FieldColumn(jz_dbdx.c.zt_dm, coded(ALLOWANCE_STATUS_CODES)),
}


class CivilAffairsConnector(SqlConnector):
    """Serves ``civil_affairs.marriages`` and ``civil_affairs.allowances``."""

    kind = "civil_affairs"
    served = frozenset({"civil_affairs.marriages", "civil_affairs.allowances"})

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's registrations or allowances, oldest first."""
        if dataset == "civil_affairs.marriages":
            stmt, to_record = select_fields(_marriage_fields(subject.id_number), query.fields)
            stmt = stmt.where(
                (hydj_xx.c.nf_sfzh == subject.id_number) | (hydj_xx.c.nvf_sfzh == subject.id_number)
            ).order_by(hydj_xx.c.djrq, hydj_xx.c.djxh)
        else:
            stmt, to_record = select_fields(_ALLOWANCE_FIELDS, query.fields)
            stmt = stmt.where(jz_dbdx.c.sfzh == subject.id_number).order_by(
                jz_dbdx.c.ksny, jz_dbdx.c.dxbh
            )
        return [to_record(row) for row in connection.execute(stmt)]
