"""The catalogue of joint-punishment measures agencies apply to listed debtors.

The measures follow the 2016 memorandum on joint punishment of dishonest
judgment debtors (关于对失信被执行人实施联合惩戒的合作备忘录), the restrictions
on high consumption (最高人民法院关于限制被执行人高消费及有关消费的若干规定)
and the Jiaozuo opinion implementing them, which names the measures below:
each is something one kind of agency does when a listed person or
organisation, or a person the restrictions reach through a listed organisation
(its legal representative, principal officer, actual controller, persons
directly responsible), comes before it. A measure the catalogue lacks is
reported as ``OTHER`` with its description.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from gateway.credit_list.entries import LabelledEnum


class Measure(LabelledEnum):
    """A sanction an agency reports having applied (or lifted)."""

    # Finance
    REFUSE_LOAN = ("refuse_loan", "限制贷款")
    REFUSE_CREDIT_CARD = ("refuse_credit_card", "限制办理信用卡")
    RESTRICT_BOND_ISSUANCE = ("restrict_bond_issuance", "限制发行债券")
    RESTRICT_SECURITIES_LISTING = ("restrict_securities_listing", "限制股票发行上市、融资")
    RESTRICT_FINANCIAL_INSTITUTION = (
        "restrict_financial_institution",
        "限制设立金融类机构、担任金融机构董事监事高管",
    )
    RESTRICT_FINANCIAL_QUALIFICATION = (
        "restrict_financial_qualification",
        "限制取得金融业从业资格",
    )
    BAR_FROM_CASH_VALUE_INSURANCE = ("bar_from_cash_value_insurance", "限制购买具有现金价值的保险")
    # Property and land
    RESTRICT_PROPERTY_PURCHASE = ("restrict_property_purchase", "限制购买不动产")
    REFUSE_PROPERTY_REGISTRATION = ("refuse_property_registration", "限制办理不动产登记")
    RESTRICT_CONSTRUCTION = ("restrict_construction", "限制新建、扩建、高档装修房屋")
    RESTRICT_LAND_USE_RIGHTS = ("restrict_land_use_rights", "限制取得国有土地使用权")
    RESTRICT_STATE_ASSET_DEALS = (
        "restrict_state_asset_deals",
        "限制参与国有企业资产、国家资产等国有产权交易",
    )
    # Public money and contracts
    EXCLUDE_FROM_PROCUREMENT = ("exclude_from_procurement", "限制参与政府采购")
    EXCLUDE_FROM_BIDDING = ("exclude_from_bidding", "限制参与工程招投标")
    EXCLUDE_FROM_PPP = ("exclude_from_ppp", "限制参与政府和社会资本合作项目")
    REFUSE_SUBSIDY = ("refuse_subsidy", "限制获得政府补贴")
    REFUSE_PROJECT_SUPPORT = ("refuse_project_support", "限制申请政府扶持项目和财政性资金")
    # Posts, recruitment, honors
    BAR_FROM_CIVIL_SERVICE = ("bar_from_civil_service", "限制招录为公务员")
    BAR_FROM_PUBLIC_INSTITUTION = (
        "bar_from_public_institution",
        "限制招录（聘）为事业单位工作人员",
    )
    BAR_FROM_PARTY_MEMBERSHIP = ("bar_from_party_membership", "限制入党、担任党代表")
    BAR_FROM_MILITARY = ("bar_from_military", "限制参军入伍")
    BAR_FROM_EXECUTIVE_POST = (
        "bar_from_executive_post",
        "限制担任企业法定代表人、董事、监事、高级管理人员",
    )
    REFUSE_LEGAL_REPRESENTATIVE_REGISTRATION = (
        "refuse_legal_representative_registration",
        "限制登记为法定代表人",
    )
    BAR_FROM_STATE_ENTERPRISE_POST = (
        "bar_from_state_enterprise_post",
        "限制担任国有企业法定代表人及高级管理人员",
    )
    REFUSE_HONORS = ("refuse_honors", "限制授予荣誉称号、参加评先评优")
    REFUSE_CREDENTIALS = ("refuse_credentials", "限制取得行政许可、资质认定")
    RESTRICT_COMPANY_REGISTRATION = (
        "restrict_company_registration",
        "限制办理公司设立、变更、注销登记",
    )
    # Consumption
    BAR_FROM_HIGH_FEE_SCHOOL = ("bar_from_high_fee_school", "限制子女就读高收费学校")
    RESTRICT_FLIGHTS = ("restrict_flights", "限制乘坐飞机")
    RESTRICT_HIGH_SPEED_TRAINS = ("restrict_high_speed_trains", "限制乘坐高铁及列车软卧")
    RESTRICT_SHIP_CABINS = ("restrict_ship_cabins", "限制乘坐轮船二等以上舱位")
    RESTRICT_LUXURY_HOTELS = ("restrict_luxury_hotels", "限制在星级以上宾馆高消费")
    RESTRICT_NIGHTCLUBS_GOLF = ("restrict_nightclubs_golf", "限制在夜总会、高尔夫球场等场所高消费")
    RESTRICT_HOLIDAYS = ("restrict_holidays", "限制旅游、度假")
    RESTRICT_VEHICLE_PURCHASE = ("restrict_vehicle_purchase", "限制购买非经营必需车辆")
    RESTRICT_OFFICE_LEASE = ("restrict_office_lease", "限制租赁高档写字楼、宾馆、公寓办公")
    # Movement and supervision
    RESTRICT_EXIT = ("restrict_exit", "限制出境")
    INTENSIFIED_SUPERVISION = ("intensified_supervision", "列为重点监管对象、加强日常监管检查")
    OTHER = ("other", "其他惩戒措施")


class Outcome(LabelledEnum):
    """What came of the measure in the case at hand."""

    APPLIED = ("applied", "已实施")
    NOT_APPLIED = ("not_applied", "未实施")
    LIFTED = ("lifted", "已解除")


@dataclass(frozen=True, slots=True)
class SanctionReport:
    """One sanction as an agency reported it.

    Attributes:
        id: the report's id.
        entry_id: the list entry it was applied on.
        agency_id: the reporting agency (from its access token, never from input).
        measure / outcome / applied_on / note: what it reported (``applied_on`` is
            the date of the act, lifting included).
        reported_at: when the gateway received the report.
        detail: the description of an ``OTHER`` measure.
    """

    id: int
    entry_id: int
    agency_id: str
    measure: Measure
    outcome: Outcome
    applied_on: datetime.date
    note: str | None
    reported_at: datetime.datetime
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class AgencyFigures:
    """Oversight figures of one agency over a period.

    Attributes:
        agency_id: the agency.
        lookup_requests: ``dishonestStatus`` calls it made.
        subjects_looked_up: subjects in those calls.
        sanctions: sanctions it reported, per measure.
        outcomes: the same reports per measure and outcome.
    """

    agency_id: str
    lookup_requests: int
    subjects_looked_up: int
    sanctions: dict[Measure, int]
    outcomes: dict[Measure, dict[Outcome, int]]
