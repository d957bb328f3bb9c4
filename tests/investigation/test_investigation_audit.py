"""A real investigation in the audit log: intent before fan-out, outcome after, fail closed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from tests.audit.audit_support import auditor_token
from tests.investigation.conftest import Investigator, subject_of

EVENT = """query Event($index: Int!) {
  auditEvent(index: $index) {
    index kind outcome entry requestId caseNumber subjectIds
    principal { officerId }
    requested { dataset fields }
    agencies { agencyId outcome }
    fields { name outcome policyIds }
  }
}"""


async def _event(investigator: Investigator, index: int) -> dict[str, Any]:
    auditor = await auditor_token(investigator.gateway)
    response = await investigator.gateway.graphql(auditor, EVENT, {"index": index})
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()["data"]["auditEvent"]
    return event


async def test_an_investigation_logs_intent_then_outcome(investigator: Investigator) -> None:
    entry = investigator.case()
    resident_id = entry.respondents[0].id_number
    body = await investigator.investigate(entry)
    assert "errors" not in body, body["errors"]

    outcome_index = body["extensions"]["audit"]["index"]
    intent = await _event(investigator, outcome_index - 1)
    outcome = await _event(investigator, outcome_index)
    assert (intent["kind"], intent["outcome"]) == ("intent", "pending")
    assert (outcome["kind"], outcome["outcome"]) == ("outcome", "ok")
    assert intent["requestId"] == outcome["requestId"]
    assert intent["caseNumber"] == outcome["caseNumber"] == entry.case_number
    assert outcome["principal"]["officerId"] == "officer-wz-001"
    assert outcome["subjectIds"] == [resident_id]
    assert {a["agencyId"] for a in outcome["agencies"]} == investigator.asked()
    assert all(a["outcome"] == "ok" for a in outcome["agencies"])
    decided = {f["name"]: f for f in outcome["fields"]}
    assert decided["balance"]["outcome"] == "returned"
    assert decided["spouse_id_number"]["outcome"] == "masked"
    assert all(f["policyIds"] for f in outcome["fields"])
    for event in (intent, outcome):
        assert resident_id not in event["entry"]


async def test_the_intent_names_the_fields_asked_for_before_policy(
    investigator: Investigator,
) -> None:
    entry = investigator.case()
    body = await investigator.investigate(entry)
    intent = await _event(investigator, body["extensions"]["audit"]["index"] - 1)
    document = json.loads(intent["entry"])

    assert document["kind"] == "intent"
    requested = document["requested"]
    assert {r["dataset"]: r["fields"] for r in intent["requested"]} == requested
    assert "balance" in requested["bank.accounts"]
    assert "spouse_id_number" in requested["civil_affairs.marriages"]
    assert requested["public_security.household"] == sorted(requested["public_security.household"])
    # The agencies actually asked, and the decisions, are the outcome's to say.
    outcome = json.loads((await _event(investigator, intent["index"] + 1))["entry"])
    assert outcome["requested"] == requested
    assert {a["agencyId"] for a in outcome["agencies"]} == investigator.asked()


async def test_a_refused_attempt_is_on_record_as_intent_and_refused_outcome(
    investigator: Investigator,
) -> None:
    entry = investigator.case(status="closed")
    response = await investigator.post(entry.case_number, subject_of(entry))
    body = response.json()
    assert body["errors"][0]["extensions"]["reason"] == "CASE_CLOSED"

    outcome_index = body["extensions"]["audit"]["index"]
    intent = await _event(investigator, outcome_index - 1)
    outcome = await _event(investigator, outcome_index)
    assert (intent["kind"], intent["outcome"]) == ("intent", "pending")
    assert intent["requestId"] == outcome["requestId"]
    assert intent["caseNumber"] == outcome["caseNumber"] == entry.case_number
    assert intent["subjectIds"] == outcome["subjectIds"] == [entry.respondents[0].id_number]
    assert outcome["outcome"] == "refused"
    assert investigator.asked() == set()


async def test_no_agency_is_asked_and_no_data_released_when_the_intent_cannot_be_written(
    investigator: Investigator,
) -> None:
    gateway = investigator.gateway
    entry = investigator.case()
    assert (await gateway.http.get("/readyz")).status_code == 200
    # Every investigation's intent names its subject: without this table it cannot be written.
    with gateway.services.engine.begin() as connection:
        connection.execute(text("DROP TABLE audit_subjects"))

    response = await investigator.post(entry.case_number, subject_of(entry))

    assert response.status_code == 503
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["AUDIT_UNAVAILABLE"]
    assert entry.respondents[0].id_number not in response.text
    assert investigator.asked() == set()
    ready = await gateway.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["audit"]["ok"] is False
