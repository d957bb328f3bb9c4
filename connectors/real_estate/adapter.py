"""The real estate connector over a 不动产登记 style register.

Tables follow the national real estate registration data standard's pinyin
initials: ``bdc_qlxx`` holds each right (权利信息) under its title certificate
number (``bdcqzh`` 不动产权证号), ``bdc_qlr`` its holders (权利人) with their
certificate number and share, ``bdc_dyaq`` the mortgages (抵押权) and
``bdc_cf`` the seals (查封). A subject's records are found through
``bdc_qlr``: a right held jointly is every holder's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy import (
    CHAR,
    Column,
    Connection,
    Date,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    select,
)

from connectors.control_ledger import AssetBinding
from connectors.sdk import DatasetQuery, Record, Subject
from connectors.sql import (
    FieldColumn,
    SqlConnector,
    coded,
    iso_date,
    money,
    select_fields,
    text,
)

__all__ = [
    "ASSETS",
    "OWNERSHIP_CODES",
    "RIGHT_STATUS_CODES",
    "RIGHT_TYPE_CODES",
    "USE_CODES",
    "RealEstateConnector",
    "metadata",
]

metadata = MetaData()

bdc_qlxx = Table(  # 权利信息
    "bdc_qlxx",
    metadata,
    Column("bdcqzh", String(64), primary_key=True),  # 不动产权证号
    Column("bdcdyh", CHAR(28), nullable=False),  # 不动产单元号
    Column("zl", Text, nullable=False),  # 坐落
    Column("qllx", CHAR(2), nullable=False),  # 权利类型
    Column("ghyt", CHAR(2), nullable=False),  # 规划用途
    Column("mj", Numeric(12, 2), nullable=False),  # 面积 (平方米)
    Column("gyfs", CHAR(1), nullable=False),  # 共有方式
    Column("djsj", Date, nullable=False),  # 登记时间
    Column("qszt", CHAR(1), nullable=False),  # 权属状态
)

bdc_qlr = Table(  # 权利人
    "bdc_qlr",
    metadata,
    Column("bdcqzh", String(64), primary_key=True),
    Column("zjh", String(18), primary_key=True),  # 证件号
    Column("qlrmc", String(100), nullable=False),  # 权利人名称
    Column("qlbl", Numeric(5, 2), nullable=False),  # 权利比例 (%)
)

bdc_dyaq = Table(  # 抵押权
    "bdc_dyaq",
    metadata,
    Column("bdcdjzmh", String(64), primary_key=True),  # 不动产登记证明号
    Column("bdcqzh", String(64), nullable=False, index=True),
    Column("dyqr", String(100), nullable=False),  # 抵押权人
    Column("bdbzzqse", Numeric(15, 2), nullable=False),  # 被担保主债权数额 (元)
    Column("zwlxqssj", Date, nullable=False),  # 债务履行起始时间
    Column("zwlxjssj", Date, nullable=False),  # 债务履行结束时间
    Column("djsj", Date, nullable=False),
    Column("zxbz", CHAR(1), nullable=False),  # 注销标志: 0 有效, 1 已注销
)

bdc_cf = Table(  # 查封
    "bdc_cf",
    metadata,
    Column("cfbh", String(32), primary_key=True),  # 查封编号
    Column("bdcqzh", String(64), nullable=False, index=True),
    Column("cfjg", String(100), nullable=False),  # 查封机关
    Column("cfwh", String(64), nullable=False),  # 查封文号
    Column("cflx", CHAR(1), nullable=False),  # 查封类型: 1 查封, 2 轮候查封
    Column("cfqssj", Date, nullable=False),  # 查封起始时间
    Column("cfjssj", Date, nullable=False),  # 查封结束时间
    Column("jfbz", CHAR(1), nullable=False),  # 解封标志: 0 有效, 1 已解封
)

RIGHT_TYPE_CODES: Mapping[str, str] = {"04": "building_ownership", "03": "land_use"}
USE_CODES: Mapping[str, str] = {
    "10": "residential",
    "20": "commercial",
    "30": "industrial",
    "40": "parking",
}
OWNERSHIP_CODES: Mapping[str, str] = {"0": "sole", "1": "joint", "2": "shares"}
RIGHT_STATUS_CODES: Mapping[str, str] = {"0": "normal", "1": "mortgaged", "2": "sealed"}

_RIGHT_FIELDS: Mapping[str, FieldColumn] = {
    "certificate_number": FieldColumn(bdc_qlxx.c.bdcqzh, text),
    "unit_number": FieldColumn(bdc_qlxx.c.bdcdyh, text),
    "location": FieldColumn(bdc_qlxx.c.zl, text),
    "right_type": FieldColumn(bdc_qlxx.c.qllx, coded(RIGHT_TYPE_CODES)),
    "use": FieldColumn(bdc_qlxx.c.ghyt, coded(USE_CODES)),
    "area": FieldColumn(bdc_qlxx.c.mj, money),
    "ownership": FieldColumn(bdc_qlxx.c.gyfs, coded(OWNERSHIP_CODES)),
    "share": FieldColumn(bdc_qlr.c.qlbl, money),
    "registered_on": FieldColumn(bdc_qlxx.c.djsj, iso_date),
    "status": FieldColumn(bdc_qlxx.c.qszt, coded(RIGHT_STATUS_CODES)),
}

_MORTGAGE_FIELDS: Mapping[str, FieldColumn] = {
    "mortgage_number": FieldColumn(bdc_dyaq.c.bdcdjzmh, text),
    "certificate_number": FieldColumn(bdc_dyaq.c.bdcqzh, text),
    "mortgagee": FieldColumn(bdc_dyaq.c.dyqr, text),
    "secured_amount": FieldColumn(bdc_dyaq.c.bdbzzqse, money),
    "term_start": FieldColumn(bdc_dyaq.c.zwlxqssj, iso_date),
    "term_end": FieldColumn(bdc_dyaq.c.zwlxjssj, iso_date),
    "registered_on": FieldColumn(bdc_dyaq.c.djsj, iso_date),
    "status": FieldColumn(bdc_dyaq.c.zxbz, coded({"0": "active", "1": "released"})),
}

_SEAL_FIELDS: Mapping[str, FieldColumn] = {
    "certificate_number": FieldColumn(bdc_cf.c.bdcqzh, text),
    "sealing_court": FieldColumn(bdc_cf.c.cfjg, text),
    "document_number": FieldColumn(bdc_cf.c.cfwh, text),
    "seal_type": FieldColumn(bdc_cf.c.cflx, coded({"1": "seal", "2": "waiting"})),
    "sealed_from": FieldColumn(bdc_cf.c.cfqssj, iso_date),
    "sealed_until": FieldColumn(bdc_cf.c.cfjssj, iso_date),
    "status": FieldColumn(bdc_cf.c.jfbz, coded({"0": "active", "1": "lifted"})),
}


ASSETS: Mapping[str, AssetBinding] = {
    "real_estate.rights": AssetBinding(bdc_qlr.c.bdcqzh, bdc_qlr.c.zjh),
}
"""A right is sealed up whole, by title certificate number, if the subject holds it (权利人)."""


class RealEstateConnector(SqlConnector):
    """Serves ``real_estate.rights``, ``real_estate.mortgages`` and ``real_estate.seals``."""

    kind = "real_estate"
    served = frozenset({"real_estate.rights", "real_estate.mortgages", "real_estate.seals"})
    asset_bindings: ClassVar[Mapping[str, AssetBinding]] = ASSETS

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        """The subject's rights, or the mortgages or seals on them, oldest first."""
        held = select(bdc_qlr.c.bdcqzh).where(bdc_qlr.c.zjh == subject.id_number)
        if dataset == "real_estate.rights":
            stmt, to_record = select_fields(_RIGHT_FIELDS, query.fields)
            stmt = (
                stmt.select_from(bdc_qlxx.join(bdc_qlr, bdc_qlr.c.bdcqzh == bdc_qlxx.c.bdcqzh))
                .where(bdc_qlr.c.zjh == subject.id_number)
                .order_by(bdc_qlxx.c.djsj, bdc_qlxx.c.bdcqzh)
            )
        elif dataset == "real_estate.mortgages":
            stmt, to_record = select_fields(_MORTGAGE_FIELDS, query.fields)
            stmt = stmt.where(bdc_dyaq.c.bdcqzh.in_(held)).order_by(
                bdc_dyaq.c.djsj, bdc_dyaq.c.bdcdjzmh
            )
        else:
            stmt, to_record = select_fields(_SEAL_FIELDS, query.fields)
            stmt = stmt.where(bdc_cf.c.bdcqzh.in_(held)).order_by(bdc_cf.c.cfqssj, bdc_cf.c.cfbh)
        return [to_record(row) for row in connection.execute(stmt)]
