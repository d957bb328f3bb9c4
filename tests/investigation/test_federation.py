"""The federation against small FieldPolicy doubles and canned connectors: one
policy batch, denied data never asked, masks applied, windows narrowed, the
audit intent written before any agency is asked, and the AccessRecord filled."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any, cast

import pytest
from starlette.requests import Request

from connectors.sdk import AgencyIdentity, Subject
from connectors.testing import RecordingConnector, StaticConnector
from gateway.access_record import AccessRecord, AccessTrail, FieldOutcome
from gateway.agencies import AgencyRegistry, RegisteredAgency
from gateway.auth.principal import Principal, Role
from gateway.authority import Authority
from gateway.case_store import Case, Court, Document, Respondent
from gateway.context import RequestContext
from gateway.errors import Forbidden
from gateway.federation import federate
from gateway.field_policy import AccessContext, FieldDecision, FieldRef, Visibility
from gateway.plan import Plan, Window
from gateway.services import Services

PERSON = Subject.resident("410823199001010012", "张伟")
TODAY = datetime.date(2026, 6, 30)
BANK = AgencyIdentity("bank-test", "bank", "测试银行")
CIVIL = AgencyIdentity("civil-test", "civil_affairs", "测试民政局")
POLICE = AgencyIdentity("police-test", "public_security", "测试公安局")
RECORDS: Mapping[str, Mapping[str, list[dict[str, Any]]]] = {
    PERSON.id_number: {
        "bank.accounts": [
            {"bank_name": "测试银行", "account_number": "6222021234567890", "balance": "12.30"}
        ],
        "civil_affairs.marriages": [
            {
                "status": "married",
                "spouse_name": "欧阳娜娜",
                "spouse_id_number": "41082319910202002X",
            }
        ],
        "public_security.lodging": [
            {"hotel": "老酒店", "check_in": "2020-01-01T20:00:00+08:00"},
            {"hotel": "新酒店", "check_in": "2026-05-01T20:00:00+08:00"},
        ],
    }
}


class TablePolicy:
    """Decides from a table keyed by ``dataset.field``; counts its batches."""

    policy_set_hash = "test-hash"

    def __init__(self, table: Mapping[str, FieldDecision]) -> None:
        self.table = table
        self.batches: list[list[FieldRef]] = []

    def decide(
        self, principal: Principal, context: AccessContext, fields: Sequence[FieldRef]
    ) -> Mapping[FieldRef, FieldDecision]:
        self.batches.append(list(fields))
        return {
            f: self.table[f"{f.dataset}.{f.name}"]
            for f in fields
            if f"{f.dataset}.{f.name}" in self.table
        }


READ = FieldDecision(Visibility.READ, ("p-read",))
MASKED = FieldDecision(Visibility.MASKED, ("p-mask",))
DENIED = FieldDecision(Visibility.DENIED, ("p-deny",))


def _authority() -> Authority:
    case = Case(
        "(2026)豫0823执1234号",
        Court("court-wuzhi", "武陟县人民法院"),
        "open",
        TODAY,
        Document("assistance_inquiry_notice", "(2026)豫0823执1234号之一"),
        ("officer-1",),
        (Respondent("resident_id", PERSON.id_number, PERSON.name),),
    )
    moment = datetime.datetime.combine(TODAY, datetime.time(12), datetime.UTC)
    return Authority(case, PERSON, case.respondents[0], "officer-1", moment)


def _context(
    policy: TablePolicy, trail: AccessTrail | None = None
) -> tuple[RequestContext, dict[str, RecordingConnector]]:
    recorders = {
        identity.id: RecordingConnector(StaticConnector(identity, RECORDS))
        for identity in (BANK, CIVIL, POLICE)
    }
    services = SimpleNamespace(
        agencies=AgencyRegistry(RegisteredAgency(r) for r in recorders.values()),
        field_policy=policy,
    )
    principal = Principal("officer-1", "client", Role.OFFICER, frozenset(), "iss", "jti")
    context = RequestContext(
        request_id="req-1",
        principal=principal,
        services=cast(Services, services),
        request=Request({"type": "http"}),
        access=trail or AccessTrail(),
    )
    return context, recorders


PLAN = Plan(
    {
        "bank.accounts": frozenset({"bank_name", "account_number", "balance"}),
        "civil_affairs.marriages": frozenset({"spouse_name", "spouse_id_number"}),
    }
)


async def test_one_batch_decides_and_values_are_shaped_by_their_decision() -> None:
    policy = TablePolicy(
        {
            "bank.accounts.bank_name": READ,
            "bank.accounts.account_number": MASKED,
            "bank.accounts.balance": DENIED,
            "civil_affairs.marriages.spouse_name": MASKED,
            "civil_affairs.marriages.spouse_id_number": MASKED,
        }
    )
    context, recorders = _context(policy)

    answers = await federate(context, _authority(), PLAN)

    assert len(policy.batches) == 1
    assert len(policy.batches[0]) == 5
    (account,) = answers["bank.accounts"].records
    assert account.values["bank_name"] == "测试银行"
    assert account.values["account_number"] == "************7890"
    denied = account.values["balance"]
    assert isinstance(denied, Forbidden)
    assert denied.extensions()["policyIds"] == ["p-deny"]
    (marriage,) = answers["civil_affairs.marriages"].records
    assert marriage.values == {"spouse_name": "欧阳**", "spouse_id_number": "410823********002X"}
    # The denied balance was never asked of the bank.
    (request,) = recorders["bank-test"].requests
    assert request.datasets["bank.accounts"].fields == {"bank_name", "account_number"}
    assert not recorders["police-test"].called


async def test_a_dataset_without_permitted_fields_is_not_asked_and_its_agency_not_called() -> None:
    # spouse_id_number has no decision at all: a missing decision is a denial.
    policy = TablePolicy(
        {"bank.accounts.bank_name": READ, "civil_affairs.marriages.spouse_name": DENIED}
    )
    context, recorders = _context(policy)

    answers = await federate(context, _authority(), PLAN)

    error = answers["civil_affairs.marriages"].error
    assert isinstance(error, Forbidden)
    assert error.extensions()["policyIds"] == ["p-deny"]
    assert not recorders["civil-test"].called
    assert recorders["bank-test"].called
    outcomes = {(f.dataset, f.name): f.outcome for f in context.access.record.fields}
    assert outcomes[("civil_affairs.marriages", "spouse_id_number")] is FieldOutcome.DENIED
    assert outcomes[("bank.accounts", "bank_name")] is FieldOutcome.RETURNED


async def test_record_age_narrows_the_window_sent_to_the_agency() -> None:
    recent = FieldDecision(Visibility.READ, ("p-recent",), max_record_age_days=730)
    policy = TablePolicy(
        {"public_security.lodging.hotel": recent, "public_security.lodging.check_in": recent}
    )
    context, recorders = _context(policy)
    plan = Plan(
        {"public_security.lodging": frozenset({"hotel", "check_in"})},
        {"public_security.lodging": Window(since=datetime.date(2010, 1, 1))},
    )

    answers = await federate(context, _authority(), plan)

    (request,) = recorders["police-test"].requests
    assert request.datasets["public_security.lodging"].since == TODAY - datetime.timedelta(730)
    assert [r.values["hotel"] for r in answers["public_security.lodging"].records] == ["新酒店"]


async def test_no_agency_is_asked_when_the_audit_intent_cannot_be_written() -> None:
    async def broken_log(_: AccessRecord) -> None:
        raise RuntimeError("audit log unavailable")

    policy = TablePolicy({"bank.accounts.bank_name": READ})
    context, recorders = _context(policy, AccessTrail(write_intent=broken_log))

    with pytest.raises(RuntimeError):
        await federate(context, _authority(), PLAN)

    assert not any(r.called for r in recorders.values())
    # The intent carried the plan: which agency was about to be asked for what.
    (call,) = context.access.record.agency_calls
    assert call.agency_id == "bank-test"
    assert call.outcome == "pending"


async def test_the_access_record_holds_decisions_and_per_agency_outcomes() -> None:
    policy = TablePolicy(
        {"bank.accounts.bank_name": READ, "civil_affairs.marriages.spouse_name": READ}
    )
    context, _ = _context(policy)

    await federate(context, _authority(), PLAN)

    record = context.access.record
    assert record.policy_set_hash == "test-hash"
    calls = {call.agency_id: call for call in record.agency_calls}
    assert set(calls) == {"bank-test", "civil-test"}
    bank = calls["bank-test"]
    assert bank.outcome == "ok"
    assert bank.records == 1
    assert bank.latency_ms is not None
    assert bank.datasets == {"bank.accounts": ["bank_name"]}
    assert bank.response_digest
    assert len(bank.response_digest) == 64
    assert bank.request_digest
    assert bank.request_digest != bank.response_digest
