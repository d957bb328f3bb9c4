"""No authority, no fan-out: every refusal names what to correct and asks no agency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from stdnum.cn import ric

from gateway.auth import scopes
from gateway.auth.principal import Role
from tests.investigation.conftest import Investigator, subject_of

QUERY = """query($caseNumber: String!, $subject: SubjectInput!) {
  investigation(caseNumber: $caseNumber, subject: $subject) {
    bankAccounts { balance } taxRefunds { amount } household { address } } }"""


def _wrong_check_digit(number: str) -> str:
    digit = "0" if number[-1] != "0" else "1"
    return number[:-1] + digit


def _impossible_birth_date(number: str) -> str:
    body = number[:6] + "19900230" + number[14:17]  # 30 February
    return body + ric.calc_check_digit(body + "0")


def _error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["data"] is None, body
    (error,) = body["errors"]
    return dict(error)


BAD_SUBJECTS: dict[str, tuple[Callable[[str], dict[str, str]], str]] = {
    "wrong check digit": (lambda n: {"residentId": _wrong_check_digit(n)}, "subject.residentId"),
    "too short": (lambda n: {"residentId": n[:-1]}, "subject.residentId"),
    "impossible birth date": (
        lambda n: {"residentId": _impossible_birth_date(n)},
        "subject.residentId",
    ),
    "malformed credit code": (lambda n: {"creditCode": "91410800MA44XXXX!X"}, "subject.creditCode"),
    "both identifiers": (
        lambda n: {"residentId": n, "creditCode": "91410882164803724M"},
        "subject",
    ),
    "neither identifier": (lambda n: {"name": "张三"}, "subject"),
}


@pytest.mark.parametrize("case", BAD_SUBJECTS, ids=list(BAD_SUBJECTS))
async def test_bad_identifiers_are_refused_naming_the_field(
    investigator: Investigator, case: str
) -> None:
    entry = investigator.case()
    make, field = BAD_SUBJECTS[case]

    response = await investigator.post(
        entry.case_number, make(entry.respondents[0].id_number), QUERY
    )

    error = _error(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert not investigator.asked()


async def test_a_malformed_case_number_is_bad_input(investigator: Investigator) -> None:
    response = await investigator.post("2024 case 17", subject_of(investigator.case()), QUERY)

    error = _error(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "caseNumber"}
    assert not investigator.asked()


async def test_an_unknown_case_is_not_found(investigator: Investigator) -> None:
    response = await investigator.post("(2024)豫0823执1号", subject_of(investigator.case()), QUERY)

    error = _error(response)
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert "(2024)豫0823执1号" in error["message"]
    assert "import" in error["message"]
    assert not investigator.asked()


async def test_full_width_brackets_name_the_same_case(investigator: Investigator) -> None:
    entry = investigator.case()
    number = entry.case_number.replace("(", "（").replace(")", "）")

    response = await investigator.post(number, subject_of(entry), QUERY)

    assert "errors" not in response.json()


async def test_a_closed_case_is_forbidden(investigator: Investigator) -> None:
    closed = investigator.case(status="closed")

    response = await investigator.post(closed.case_number, subject_of(closed), QUERY)

    error = _error(response)
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "CASE_CLOSED"}
    assert "closed" in error["message"]
    assert "reopen" in error["message"]
    assert not investigator.asked()


async def test_a_case_of_another_court_is_forbidden(investigator: Investigator) -> None:
    elsewhere = next(c for c in investigator.cases if c.court.id != "court-wuzhi")

    response = await investigator.post(elsewhere.case_number, subject_of(elsewhere), QUERY)

    error = _error(response)
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "OTHER_COURT"}
    assert elsewhere.court.name in error["message"]
    assert not investigator.asked()


async def test_an_officer_not_assigned_is_forbidden(investigator: Investigator) -> None:
    gateway = investigator.gateway
    entry = investigator.case()
    client = gateway.register(
        "colleague",
        Role.OFFICER,
        {scopes.INVESTIGATE},
        court_id="court-wuzhi",
        officer_id="officer-wz-009",
    )
    token = await gateway.token(*client)

    response = await investigator.post(entry.case_number, subject_of(entry), QUERY, token)

    error = _error(response)
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "NOT_ASSIGNED"}
    assert "not assigned" in error["message"]
    assert not investigator.asked()


async def test_a_subject_not_respondent_is_forbidden(investigator: Investigator) -> None:
    entry, other = investigator.case(index=0), investigator.case(index=1)

    response = await investigator.post(entry.case_number, subject_of(other), QUERY)

    error = _error(response)
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "NOT_RESPONDENT"}
    assert "not a respondent" in error["message"]
    assert not investigator.asked()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.AGENCY])
async def test_auditors_and_agency_clients_get_no_agency_data(
    investigator: Investigator, role: Role
) -> None:
    gateway = investigator.gateway
    client = gateway.register(
        f"{role.value}-client",
        role,
        {scopes.INVESTIGATE},
        court_id="court-wuzhi" if role is Role.AUDITOR else None,
        agency_id="bank-icbc" if role is Role.AGENCY else None,
        officer_id="auditor-jz-001" if role is Role.AUDITOR else None,
    )
    token = await gateway.token(*client)
    entry = investigator.case()

    response = await investigator.post(entry.case_number, subject_of(entry), QUERY, token)

    error = _error(response)
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "NOT_AN_OFFICER"}
    assert not investigator.asked()


async def test_without_the_investigate_scope_the_answer_is_403(
    investigator: Investigator,
) -> None:
    gateway = investigator.gateway
    client = gateway.register(
        "reader",
        Role.OFFICER,
        {scopes.CASES_READ},
        court_id="court-wuzhi",
        officer_id="officer-wz-001",
    )
    token = await gateway.token(*client)
    entry = investigator.case()

    response = await investigator.post(entry.case_number, subject_of(entry), QUERY, token)

    assert response.status_code == 403
    assert 'scope="investigate"' in response.headers["www-authenticate"]
    assert not investigator.asked()
