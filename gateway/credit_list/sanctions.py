"""The catalogue of joint-punishment measures agencies apply to listed debtors.

The measures follow the 2016 memorandum on joint punishment of dishonest
judgment debtors (关于对失信被执行人实施联合惩戒的合作备忘录) and the
restrictions on high consumption (最高人民法院关于限制被执行人高消费及有关消费
的若干规定): each is something one kind of agency does when a listed person or
organisation comes before it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from gateway.credit_list.entries import LabelledEnum


class Measure(LabelledEnum):
    """A sanction an agency reports having applied."""

    REFUSE_LOAN = ("refuse_loan", "限制贷款")
    REFUSE_CREDIT_CARD = ("refuse_credit_card", "限制办理信用卡")
    RESTRICT_PROPERTY_PURCHASE = ("restrict_property_purchase", "限制购买不动产")
    REFUSE_PROPERTY_REGISTRATION = ("refuse_property_registration", "限制办理不动产登记")
    EXCLUDE_FROM_PROCUREMENT = ("exclude_from_procurement", "限制参与政府采购")
    EXCLUDE_FROM_BIDDING = ("exclude_from_bidding", "限制参与工程招投标")
    REFUSE_SUBSIDY = ("refuse_subsidy", "限制获得政府补贴")
    BAR_FROM_CIVIL_SERVICE = ("bar_from_civil_service", "限制招录为公务员")
    BAR_FROM_EXECUTIVE_POST = ("bar_from_executive_post", "限制担任企业高管")
    BAR_FROM_HIGH_FEE_SCHOOL = ("bar_from_high_fee_school", "限制子女就读高收费学校")
    BAR_FROM_CASH_VALUE_INSURANCE = ("bar_from_cash_value_insurance", "限制购买具有现金价值的保险")
    RESTRICT_FLIGHTS = ("restrict_flights", "限制乘坐飞机")
    RESTRICT_HIGH_SPEED_TRAINS = ("restrict_high_speed_trains", "限制乘坐高铁及列车软卧")
    RESTRICT_LUXURY_HOTELS = ("restrict_luxury_hotels", "限制在星级以上宾馆高消费")
    REFUSE_LEGAL_REPRESENTATIVE_REGISTRATION = (
        "refuse_legal_representative_registration",
        "限制登记为法定代表人",
    )
    RESTRICT_EXIT = ("restrict_exit", "限制出境")


class Outcome(LabelledEnum):
    """What came of the measure in the case at hand."""

    APPLIED = ("applied", "已实施")
    NOT_APPLIED = ("not_applied", "未实施")


@dataclass(frozen=True, slots=True)
class SanctionReport:
    """One sanction as an agency reported it.

    Attributes:
        id: the report's id.
        entry_id: the list entry it was applied on.
        agency_id: the reporting agency (from its access token, never from input).
        measure / outcome / applied_on / note: what it reported.
        reported_at: when the gateway received the report.
    """

    id: int
    entry_id: int
    agency_id: str
    measure: Measure
    outcome: Outcome
    applied_on: datetime.date
    note: str | None
    reported_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class AgencyFigures:
    """Oversight figures of one agency over a period.

    Attributes:
        agency_id: the agency.
        lookup_requests: ``dishonestStatus`` calls it made.
        subjects_looked_up: subjects in those calls.
        sanctions: sanctions it reported, per measure.
    """

    agency_id: str
    lookup_requests: int
    subjects_looked_up: int
    sanctions: dict[Measure, int]
