"""The public security connector: household register (户籍), hotel lodging,
motor vehicles (机动车登记) and exit-entry documents (出入境证件).

The household register keeps a household table and a person table joined by
the household number (户号), with relation-to-head codes after GB/T 4761. Hotel
registrations carry local times without an offset. Vehicles are keyed by their
plate (号牌号码) with the owner's certificate number; exit-entry documents by
their number, with the holder's ID number and a document kind code.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import ClassVar

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

from connectors.control_ledger import AssetBinding
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

__all__ = [
    "ASSETS",
    "DOCUMENT_KIND_CODES",
    "DOCUMENT_STATUS_CODES",
    "RELATION_CODES",
    "VEHICLE_STATUS_CODES",
    "VEHICLE_TYPE_CODES",
    "PublicSecurityConnector",
    "metadata",
]

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

jdc_jbxx = Table(  # 机动车基本信息
    "jdc_jbxx",
    metadata,
    Column("hphm", String(16), primary_key=True),  # 号牌号码
    Column("syrzjhm", CHAR(18), nullable=False, index=True),  # 所有人证件号码
    Column("syr", String(50), nullable=False),  # 所有人
    Column("clpp", String(64), nullable=False),  # 车辆品牌与型号
    Column("clsbdh", CHAR(17), nullable=False),  # 车辆识别代号 (VIN)
    Column("cllx", CHAR(3), nullable=False),  # 车辆类型代码
    Column("ccdjrq", Date, nullable=False),  # 初次登记日期
    Column("zt", CHAR(1), nullable=False),  # 机动车状态
)

crj_zjxx = Table(  # 出入境证件信息
    "crj_zjxx",
    metadata,
    Column("zjhm", String(12), primary_key=True),  # 证件号码
    Column("gmsfhm", CHAR(18), nullable=False, index=True),  # 公民身份号码
    Column("zjzl", CHAR(2), nullable=False),  # 证件种类
    Column("qfrq", Date, nullable=False),  # 签发日期
    Column("yxqz", Date, nullable=False),  # 有效期至
    Column("qfjg", String(64), nullable=False),  # 签发机关
    Column("zjzt", CHAR(1), nullable=False),  # 证件状态
)

VEHICLE_TYPE_CODES: Mapping[str, str] = {
    "K33": "car",
    "H11": "truck",
    "K11": "bus",
    "M21": "motorcycle",
}
VEHICLE_STATUS_CODES: Mapping[str, str] = {
    "A": "normal",  # 正常
    "D": "mortgaged",  # 抵押
    "K": "seized",  # 查封
    "E": "scrapped",  # 注销 (报废)
}
DOCUMENT_KIND_CODES: Mapping[str, str] = {
    "14": "passport",  # 普通护照
    "21": "hk_macao_permit",  # 往来港澳通行证
    "25": "taiwan_permit",  # 往来台湾通行证
}
DOCUMENT_STATUS_CODES: Mapping[str, str] = {
    "1": "valid",
    "2": "expired",
    "3": "cancelled",  # 作废
    "4": "exit_restricted",  # 法院决定限制出境
}

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


_VEHICLE_FIELDS: Mapping[str, FieldColumn] = {
    "plate": FieldColumn(jdc_jbxx.c.hphm, text),
    "brand_model": FieldColumn(jdc_jbxx.c.clpp, text),
    "vin": FieldColumn(jdc_jbxx.c.clsbdh, text),
    "vehicle_type": FieldColumn(jdc_jbxx.c.cllx, coded(VEHICLE_TYPE_CODES)),
    "registered_on": FieldColumn(jdc_jbxx.c.ccdjrq, iso_date),
    "status": FieldColumn(jdc_jbxx.c.zt, coded(VEHICLE_STATUS_CODES)),
}

_PASSPORT_FIELDS: Mapping[str, FieldColumn] = {
    "document_number": FieldColumn(crj_zjxx.c.zjhm, text),
    "document_type": FieldColumn(crj_zjxx.c.zjzl, coded(DOCUMENT_KIND_CODES)),
    "issued_on": FieldColumn(crj_zjxx.c.qfrq, iso_date),
    "expires_on": FieldColumn(crj_zjxx.c.yxqz, iso_date),
    "issuing_authority": FieldColumn(crj_zjxx.c.qfjg, text),
    "status": FieldColumn(crj_zjxx.c.zjzt, coded(DOCUMENT_STATUS_CODES)),
}


ASSETS: Mapping[str, AssetBinding] = {
    "public_security.vehicles": AssetBinding(jdc_jbxx.c.hphm, jdc_jbxx.c.syrzjhm),
}
"""A vehicle is sealed up whole (查封), by plate, if registered to the subject (所有人)."""


class PublicSecurityConnector(SqlConnector):
    """Serves the household register, hotel stays, vehicles and exit-entry documents."""

    kind = "public_security"
    served = frozenset(
        {
            "public_security.household",
            "public_security.lodging",
            "public_security.vehicles",
            "public_security.passports",
        }
    )
    asset_bindings: ClassVar[Mapping[str, AssetBinding]] = ASSETS

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's household (0 or 1 record), or hotel stays, vehicles or
        documents (oldest first)."""
        if dataset == "public_security.household":
            return self._household(connection, subject, query.fields)
        if dataset == "public_security.vehicles":
            stmt, to_record = select_fields(_VEHICLE_FIELDS, query.fields)
            stmt = stmt.where(jdc_jbxx.c.syrzjhm == subject.id_number).order_by(
                jdc_jbxx.c.ccdjrq, jdc_jbxx.c.hphm
            )
            return [to_record(row) for row in connection.execute(stmt)]
        if dataset == "public_security.passports":
            stmt, to_record = select_fields(_PASSPORT_FIELDS, query.fields)
            stmt = stmt.where(crj_zjxx.c.gmsfhm == subject.id_number).order_by(
                crj_zjxx.c.qfrq, crj_zjxx.c.zjhm
            )
            return [to_record(row) for row in connection.execute(stmt)]
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
