"""The public security connector: household register (户籍) and hotel lodging.

The household register keeps a household table and a person table joined by
the household number (户号), with relation-to-head codes after GB/T 4761. Hotel
registrations carry local times without an offset.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from sqlalchemy import (
    CHAR,
    Column,
    Connection,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
    select,
)

from connectors.sdk import DatasetQuery, Record, Subject
from connectors.sql import (
    FieldColumn,
    SqlConnector,
    coded,
    iso_date,
    iso_datetime,
    select_fields,
    text,
)

__all__ = ["RELATION_CODES", "PublicSecurityConnector", "metadata"]

metadata = MetaData()

hjxx_hu = Table(  # 户籍信息: 户
    "hjxx_hu",
    metadata,
    Column("hh", String(12), primary_key=True),  # 户号
    Column("hzxm", String(50), nullable=False),  # 户主姓名
    Column("zz", String(200), nullable=False),  # 住址
    Column("ssxq_dm", CHAR(6), nullable=False),  # 所属辖区代码
)

hjxx_ry = Table(  # 户籍信息: 人
    "hjxx_ry",
    metadata,
    Column("gmsfhm", CHAR(18), primary_key=True),  # 公民身份号码
    Column("xm", String(50), nullable=False),
    Column("xb_dm", CHAR(1), nullable=False),  # 性别代码: 1 男, 2 女
    Column("csrq", Date, nullable=False),  # 出生日期
    Column("yhzgx_dm", CHAR(2), nullable=False),  # 与户主关系代码
    Column("hh", String(12), nullable=False, index=True),
)

ldxx_zsdj = Table(  # 旅店信息: 住宿登记
    "ldxx_zsdj",
    metadata,
    Column("zsdjbh", String(24), primary_key=True),  # 住宿登记编号
    Column("zjhm", CHAR(18), nullable=False, index=True),  # 证件号码
    Column("xm", String(50), nullable=False),
    Column("lgmc", String(100), nullable=False),  # 旅馆名称
    Column("ssds", String(32), nullable=False),  # 所属地市
    Column("lgdz", String(200), nullable=False),  # 旅馆地址
    Column("rzsj", DateTime, nullable=False),  # 入住时间
    Column("ldsj", DateTime, nullable=True),  # 离店时间
)

RELATION_CODES: Mapping[str, str] = {
    "02": "户主",
    "10": "配偶",
    "20": "子",
    "30": "女",
    "50": "父母",
    "99": "其他",
}

_HOUSEHOLD_FIELDS: Mapping[str, FieldColumn] = {
    "household_number": FieldColumn(hjxx_hu.c.hh, text),
    "address": FieldColumn(hjxx_hu.c.zz, text),
    "head_name": FieldColumn(hjxx_hu.c.hzxm, text),
}

_MEMBER_FIELDS: Mapping[str, FieldColumn] = {
    "name": FieldColumn(hjxx_ry.c.xm, text),
    "relation": FieldColumn(hjxx_ry.c.yhzgx_dm, coded(RELATION_CODES)),
    "id_number": FieldColumn(hjxx_ry.c.gmsfhm, text),
    "birth_date": FieldColumn(hjxx_ry.c.csrq, iso_date),
}

_LODGING_FIELDS: Mapping[str, FieldColumn] = {
    "hotel": FieldColumn(ldxx_zsdj.c.lgmc, text),
    "city": FieldColumn(ldxx_zsdj.c.ssds, text),
    "address": FieldColumn(ldxx_zsdj.c.lgdz, text),
    "check_in": FieldColumn(ldxx_zsdj.c.rzsj, iso_datetime),
    "check_out": FieldColumn(ldxx_zsdj.c.ldsj, iso_datetime),
}


class PublicSecurityConnector(SqlConnector):
    """Serves ``public_security.household`` and ``public_security.lodging``."""

    kind = "public_security"
    served = frozenset({"public_security.household", "public_security.lodging"})

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's household (0 or 1 record) or hotel stays (oldest first)."""
        if dataset == "public_security.household":
            return self._household(connection, subject, query.fields)
        return self._lodging(connection, subject, query)

    def _household(
        self, connection: Connection, subject: Subject, fields: frozenset[str]
    ) -> list[Record]:
        number = connection.execute(
            select(hjxx_ry.c.hh).where(hjxx_ry.c.gmsfhm == subject.id_number)
        ).scalar_one_or_none()
        if number is None:
            return []
        record: Record = {}
        own = fields & _HOUSEHOLD_FIELDS.keys()
        if own:
            stmt, to_record = select_fields(_HOUSEHOLD_FIELDS, own)
            row = connection.execute(stmt.where(hjxx_hu.c.hh == number)).one_or_none()
            if row is None:
                return []  # A person row pointing at no household: the register lags.
            record.update(to_record(row))
        member_fields = {name.removeprefix("members.") for name in fields if "." in name}
        if member_fields:
            stmt, to_record = select_fields(_MEMBER_FIELDS, member_fields)
            stmt = stmt.where(hjxx_ry.c.hh == number).order_by(
                hjxx_ry.c.yhzgx_dm, hjxx_ry.c.csrq, hjxx_ry.c.gmsfhm
            )
            record["members"] = [to_record(row) for row in connection.execute(stmt)]
        return [record]

    def _lodging(
        self, connection: Connection, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        stmt, to_record = select_fields(_LODGING_FIELDS, query.fields)
        stmt = stmt.where(ldxx_zsdj.c.zjhm == subject.id_number)
        if query.since is not None:
            stmt = stmt.where(ldxx_zsdj.c.rzsj >= _midnight(query.since))
        if query.until is not None:
            stmt = stmt.where(ldxx_zsdj.c.rzsj < _midnight(query.until + datetime.timedelta(1)))
        stmt = stmt.order_by(ldxx_zsdj.c.rzsj, ldxx_zsdj.c.zsdjbh)
        return [to_record(row) for row in connection.execute(stmt)]


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time())
