"""The full investigation through HTTP: four agency kinds in one answer, shaped by
the shipped policies, asking each agency once and only for what was selected."""

from __future__ import annotations

import datetime
import re

from tests.investigation.conftest import Investigator, subject_of

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
LODGING_DAYS = 730  # The shipped public-security policy: stays of the last two years.


async def test_full_investigation_answers_from_all_four_agency_kinds(
    investigator: Investigator,
) -> None:
    entry = investigator.case()
    body = await investigator.investigate(entry)

    assert "errors" not in body, body["errors"]
    found = body["data"]["investigation"]
    assert found["caseNumber"] == entry.case_number
    assert found["subject"]["residentId"] == entry.respondents[0].id_number
    banks = {account["agency"]["name"] for account in found["bankAccounts"]}
    assert len(banks) == 3  # The first demo debtor banks at all three demo banks.
    assert all(re.fullmatch(r"-?\d+\.\d{2}", a["balance"]) for a in found["bankAccounts"])
    assert found["taxRefunds"]
    assert found["allowanceRecords"]
    marriage = found["marriageRecords"][0]
    assert marriage["spouseName"]
    assert MASKED_ID.match(marriage["spouseIdNumber"])
    household = found["household"]
    assert household["address"].startswith("河南省焦作市")
    assert not household["address"].endswith("*")
    assert {m["relation"] for m in household["members"]} >= {"户主", "配偶"}
    assert all(MASKED_ID.match(m["idNumber"]) for m in household["members"])
    assert found["lodgingRecords"]
    assert investigator.asked() == {agency.identity.id for agency in investigator.world.agencies}
    assert all(len(r.requests) == 1 for r in investigator.recorders.values())


async def test_lodging_records_are_narrowed_to_what_policy_allows(
    investigator: Investigator,
) -> None:
    query = """query($caseNumber: String!, $subject: SubjectInput!) {
      investigation(caseNumber: $caseNumber, subject: $subject) {
        lodgingRecords(since: "2000-01-01") { hotel checkIn } } }"""
    body = await investigator.investigate(investigator.case(), query)

    earliest = datetime.date.today() - datetime.timedelta(days=LODGING_DAYS)
    stays = body["data"]["investigation"]["lodgingRecords"]
    assert stays
    assert all(s["checkIn"][:10] >= earliest.isoformat() for s in stays)
    asked = investigator.recorders["public-security-jiaozuo"].requests[0]
    query_sent = asked.datasets["public_security.lodging"]
    assert query_sent.since is not None
    assert query_sent.since >= earliest
    assert set(asked.datasets) == {"public_security.lodging"}


async def test_only_the_selected_datasets_and_fields_are_asked(
    investigator: Investigator,
) -> None:
    query = """query($caseNumber: String!, $subject: SubjectInput!) {
      investigation(caseNumber: $caseNumber, subject: $subject) {
        bankAccounts { agency { id } balance } } }"""
    body = await investigator.investigate(investigator.case(), query)

    assert body["data"]["investigation"]["bankAccounts"]
    assert investigator.asked() == {"bank-icbc", "bank-ccb", "bank-abc"}
    for agency_id in investigator.asked():
        (request,) = investigator.recorders[agency_id].requests
        assert {n: q.fields for n, q in request.datasets.items()} == {
            "bank.accounts": frozenset({"balance"})
        }
        assert request.authority.case_number == investigator.case().case_number
        assert request.authority.officer_id == "officer-wz-001"


async def test_fragments_aliases_and_skip_are_planned_like_plain_fields(
    investigator: Investigator,
) -> None:
    query = """query($caseNumber: String!, $subject: SubjectInput!, $no: Boolean!) {
      investigation(caseNumber: $caseNumber, subject: $subject) {
        ...Money
        spouse: marriageRecords { ... on MarriageRecord { who: spouseName } }
        household @skip(if: $no) { address }
        recent: lodgingRecords(since: "2026-01-01") { hotel }
        older: lodgingRecords(until: "2025-12-31") { city }
      } }
    fragment Money on Investigation { taxRefunds { amount refundAccount } }"""
    response = await investigator.gateway.graphql(
        investigator.token,
        query,
        {
            "caseNumber": investigator.case().case_number,
            "subject": subject_of(investigator.case()),
            "no": True,
        },
    )
    body = response.json()

    assert "errors" not in body, body
    found = body["data"]["investigation"]
    assert found["taxRefunds"][0]["amount"]
    assert found["spouse"][0]["who"]
    assert "household" not in found
    assert investigator.asked() == {
        "tax-jiaozuo",
        "civil-affairs-jiaozuo",
        "public-security-jiaozuo",
    }
    (tax,) = investigator.recorders["tax-jiaozuo"].requests
    assert tax.datasets["tax.refunds"].fields == {"amount", "refund_account"}
    (civil,) = investigator.recorders["civil-affairs-jiaozuo"].requests
    assert civil.datasets["civil_affairs.marriages"].fields == {"spouse_name"}
    (police,) = investigator.recorders["public-security-jiaozuo"].requests
    # Two windows, one request: the check-in time is fetched to filter each alias.
    assert set(police.datasets) == {"public_security.lodging"}
    assert police.datasets["public_security.lodging"].fields == {"hotel", "city", "check_in"}
    assert all(s["hotel"] for s in found["recent"])
    assert all(s["city"] for s in found["older"])


async def test_an_organisation_is_investigated_by_its_credit_code(
    investigator: Investigator,
) -> None:
    firm = next(c for c in investigator.cases if c.respondents[0].id_type == "uscc")
    body = await investigator.investigate(firm)

    assert "errors" not in body, body
    found = body["data"]["investigation"]
    assert found["subject"]["creditCode"] == firm.respondents[0].id_number
    assert found["bankAccounts"]
    assert found["taxRefunds"]
    assert found["household"] is None
    assert found["marriageRecords"] == []


async def test_my_cases_lists_the_officers_cases_with_respondents(
    investigator: Investigator,
) -> None:
    query = """{ myCases { caseNumber status court { id }
                 respondents { residentId creditCode name } } }"""
    response = await investigator.gateway.graphql(investigator.token, query)

    cases = response.json()["data"]["myCases"]
    mine = [c for c in investigator.cases if any(o.id == "officer-wz-001" for o in c.officers)]
    assert {c["caseNumber"] for c in cases} == {c.case_number for c in mine}
    assert {c["status"] for c in cases} == {"open", "closed"}
    assert all(c["court"]["id"] == "court-wuzhi" and c["respondents"] for c in cases)
    assert not investigator.asked()
