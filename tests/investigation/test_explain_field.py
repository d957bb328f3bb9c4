"""``explainField`` through HTTP: the decision and its policies, for the caller, in a case."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.auth import scopes
from gateway.auth.principal import Role
from tests.investigation.conftest import COURT_ID, OFFICER_ID, Investigator, subject_of

EXPLAIN = """query($caseNumber: String!, $subject: SubjectInput!, $dataset: String!,
                  $field: String!) {
  explainField(caseNumber: $caseNumber, subject: $subject, dataset: $dataset, field: $field) {
    caseNumber agencyKind dataset field decision policyIds maxRecordAgeDays policySetHash
  }
}"""


async def _token(investigator: Investigator, role: Role, **attributes: str) -> str:
    gateway = investigator.gateway
    # Decisions are for the caller's token: the agencies' policies require `investigate`.
    granted = {scopes.POLICY_EXPLAIN, scopes.INVESTIGATE}
    client = gateway.register(f"explain-{role.value}", role, granted, **attributes)
    return await gateway.token(*client)


async def _officer(investigator: Investigator) -> str:
    return await _token(investigator, Role.OFFICER, court_id=COURT_ID, officer_id=OFFICER_ID)


async def _explain(
    investigator: Investigator, token: str, dataset: str, field: str, *, status: str = "open"
) -> dict[str, Any]:
    entry = investigator.case(status=status)
    variables = {
        "caseNumber": entry.case_number,
        "subject": subject_of(entry),
        "dataset": dataset,
        "field": field,
    }
    response = await investigator.gateway.graphql(token, EXPLAIN, variables)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("dataset", "field", "decision", "policy", "max_age"),
    [
        ("bank.accounts", "balance", "READ", "bank.officer-accounts-read", None),
        (
            "civil_affairs.marriages",
            "spouse_id_number",
            "MASKED",
            "civil_affairs.officer-spouse-id-masked",
            None,
        ),
        (
            "public_security.lodging",
            "check_in",
            "READ",
            "public_security.officer-lodging-recent-read",
            730,
        ),
    ],
)
async def test_the_assigned_officer_gets_the_decision_and_its_policies(
    investigator: Investigator,
    dataset: str,
    field: str,
    decision: str,
    policy: str,
    max_age: int | None,
) -> None:
    body = await _explain(investigator, await _officer(investigator), dataset, field)

    assert "errors" not in body, body["errors"]
    explained = body["data"]["explainField"]
    assert (explained["dataset"], explained["field"]) == (dataset, field)
    assert explained["agencyKind"] == dataset.split(".")[0]
    assert explained["decision"] == decision
    assert policy in explained["policyIds"]
    assert explained["maxRecordAgeDays"] == max_age
    assert explained["policySetHash"] == investigator.gateway.services.field_policy.policy_set_hash
    assert investigator.asked() == set()


async def test_a_closed_case_and_an_auditor_are_denied_with_the_reason(
    investigator: Investigator,
) -> None:
    closed = await _explain(
        investigator, await _officer(investigator), "bank.accounts", "balance", status="closed"
    )
    auditor = await _token(investigator, Role.AUDITOR, court_id=COURT_ID)
    audited = await _explain(investigator, auditor, "bank.accounts", "balance")

    assert closed["data"]["explainField"]["decision"] == "DENIED"
    assert audited["data"]["explainField"]["decision"] == "DENIED"
    assert investigator.asked() == set()


async def test_unknown_names_and_cases_get_a_clear_answer(investigator: Investigator) -> None:
    token = await _officer(investigator)
    no_dataset = await _explain(investigator, token, "bank.loans", "balance")
    no_field = await _explain(investigator, token, "bank.accounts", "pin")
    entry = investigator.case()
    variables = {
        "caseNumber": "(2020)豫0823执9999号",
        "subject": subject_of(entry),
        "dataset": "bank.accounts",
        "field": "balance",
    }
    no_case = (await investigator.gateway.graphql(token, EXPLAIN, variables)).json()

    for body, code, where in [
        (no_dataset, "BAD_USER_INPUT", "dataset"),
        (no_field, "BAD_USER_INPUT", "field"),
        (no_case, "NOT_FOUND", None),
    ]:
        [error] = body["errors"]
        assert error["extensions"]["code"] == code
        assert error["extensions"].get("field") == where


async def test_explaining_needs_the_policy_explain_scope(investigator: Investigator) -> None:
    response = await investigator.gateway.graphql(
        investigator.token,
        EXPLAIN,
        {
            "caseNumber": investigator.case().case_number,
            "subject": subject_of(investigator.case()),
            "dataset": "bank.accounts",
            "field": "balance",
        },
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
