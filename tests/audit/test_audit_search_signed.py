"""The auditor API shows only signed values, and refuses filters no event can match.

Search runs on copies of each event's facts (gateway.audit.projection); these
tests alter the copies in the database and check, over HTTP, that what auditors
and agencies are shown still comes from the signed entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, update

from gateway.audit.store import audit_event_agencies, audit_event_measures, audit_events
from gateway.auth import scopes
from gateway.auth.principal import Role
from tests.audit.audit_support import (
    PROBE,
    RESIDENT_IDS,
    audit_log,
    auditor_token,
    event_dict,
    leaf_of_entry,
    officer_token,
    probe_gateway,
    token_for,
)
from tests.conftest import Gateway

__all__ = ["probe_gateway"]

NODE = """index kind time outcome requestId caseNumber courtId entry
    principal { officerId courtId } agencies { agencyId } requested { dataset }
    receipt { timestamp leafHash }"""
EVENT = f"query($i: Int!) {{ auditEvent(index: $i) {{ {NODE} }} }}"
SEARCH = f"""query($f: AuditEventFilter, $after: String) {{
  auditEvents(filter: $f, first: 50, after: $after) {{
    edges {{ node {{ {NODE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""


async def _probe(gateway: Gateway) -> int:
    """An officer's request; returns the index of its outcome event."""
    response = await gateway.graphql(
        await officer_token(gateway), PROBE, {"subject": RESIDENT_IDS[0]}
    )
    assert response.status_code == 200, response.text
    index: int = response.json()["extensions"]["audit"]["index"]
    return index


def _tamper(gateway: Gateway, index: int, **columns: Any) -> None:
    with audit_log(gateway).store.engine.begin() as connection:
        connection.execute(update(audit_events).where(audit_events.c.idx == index).values(columns))


def _forge_agency_row(gateway: Gateway, index: int, agency: str) -> None:
    with audit_log(gateway).store.engine.begin() as connection:
        connection.execute(insert(audit_event_agencies).values(event_idx=index, agency_id=agency))


async def _search(gateway: Gateway, token: str, where: dict[str, Any]) -> list[dict[str, Any]]:
    response = await gateway.graphql(token, SEARCH, {"f": where})
    assert response.status_code == 200, response.text
    page = response.json()["data"]["auditEvents"]
    return [edge["node"] for edge in page["edges"]]


def _assert_signed(node: dict[str, Any], index: int) -> None:
    signed = event_dict(node["entry"])
    assert node["index"] == signed["index"] == index
    assert node["kind"] == signed["kind"] == "outcome"
    assert node["outcome"] == signed["outcome"] == "ok"
    assert node["requestId"] == signed["requestId"]
    assert node["receipt"]["timestamp"] == str(signed["time"])
    shown = datetime.fromisoformat(node["time"])
    assert shown == datetime.fromtimestamp(signed["time"] / 1000, UTC)
    assert node["caseNumber"] == signed["authority"]["caseNumber"] == "(2024)豫0823执123号"
    assert node["courtId"] == "court-wuzhi"
    assert node["principal"]["officerId"] == "officer-wz-001"
    assert node["agencies"] == [{"agencyId": "bank-icbc"}]
    assert node["receipt"]["leafHash"] == leaf_of_entry(node["entry"])


async def test_tampered_columns_are_not_shown(probe_gateway: Gateway) -> None:
    gateway = probe_gateway
    index = await _probe(gateway)
    _tamper(
        gateway,
        index,
        kind="intent",
        time_ms=1,
        outcome="refused",
        officer_id="officer-wz-777",
        court_id="court-other",
        case_number="(2020)豫0823执1号",
        request_id="forged-request",
        leaf_hash=b"\x00" * 32,
    )
    _forge_agency_row(gateway, index, "tax-henan")
    auditor = await auditor_token(gateway)
    response = await gateway.graphql(auditor, EVENT, {"i": index})
    assert response.status_code == 200, response.text
    _assert_signed(response.json()["data"]["auditEvent"], index)
    (node,) = [node for node in await _search(gateway, auditor, {}) if node["index"] == index]
    _assert_signed(node, index)


async def test_a_search_does_not_show_an_event_whose_copies_were_made_to_match(
    probe_gateway: Gateway,
) -> None:
    gateway = probe_gateway
    index = await _probe(gateway)
    _tamper(gateway, index, officer_id="officer-wz-777", outcome="error")
    auditor = await auditor_token(gateway)
    assert await _search(gateway, auditor, {"officerId": "officer-wz-777"}) == []
    assert await _search(gateway, auditor, {"outcome": "error"}) == []
    # The page is empty, yet paging moves past the row read (no endless loop).
    response = await gateway.graphql(auditor, SEARCH, {"f": {"officerId": "officer-wz-777"}})
    page_info = response.json()["data"]["auditEvents"]["pageInfo"]
    assert page_info == {"hasNextPage": False, "endCursor": page_info["endCursor"]}
    assert page_info["endCursor"] is not None


async def test_a_measure_search_does_not_show_an_event_forged_into_it(
    probe_gateway: Gateway,
) -> None:
    gateway = probe_gateway
    index = await _probe(gateway)
    with audit_log(gateway).store.engine.begin() as connection:
        connection.execute(
            insert(audit_event_measures).values(event_idx=index, measure_id="m-forged")
        )
    auditor = await auditor_token(gateway)
    assert await _search(gateway, auditor, {"measureId": "m-forged"}) == []
    response = await gateway.graphql(auditor, SEARCH, {"f": {"measureId": " m "}})
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_agency_does_not_see_an_event_it_was_forged_into(probe_gateway: Gateway) -> None:
    gateway = probe_gateway
    index = await _probe(gateway)
    _forge_agency_row(gateway, index, "tax-henan")
    tax = await token_for(gateway, Role.AGENCY, {scopes.AUDIT_READ}, agency_id="tax-henan")
    assert await _search(gateway, tax, {}) == []
    response = await gateway.graphql(tax, EVENT, {"i": index})
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bank = await token_for(gateway, Role.AGENCY, {scopes.AUDIT_READ}, agency_id="bank-icbc")
    assert [node["index"] for node in await _search(gateway, bank, {})] == [index]


@pytest.mark.parametrize(
    ("where", "field", "says"),
    [
        ({"subjectId": "41082319850714231"}, "filter.subjectId", "subjectId"),
        ({"subjectId": "410823198507142318"}, "filter.subjectId", "subjectId"),
        ({"outcome": "success"}, "filter.outcome", "'outcome' must be one of"),
        ({"kind": "lookup"}, "filter.kind", "'kind' must be one of"),
        (
            {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
            "filter.since",
            "'since' must not be after 'until'",
        ),
        ({"caseNumber": "case 123"}, "filter.caseNumber", "case number"),
        ({"agencyId": ""}, "filter.agencyId", "'agencyId' must have 1 to 64"),
        ({"officerId": "x" * 65}, "filter.officerId", "'officerId' must have 1 to 64"),
        ({"courtId": " court-wuzhi"}, "filter.courtId", "'courtId'"),
    ],
)
async def test_an_impossible_filter_is_bad_user_input(
    probe_gateway: Gateway, where: dict[str, Any], field: str, says: str
) -> None:
    gateway = probe_gateway
    response = await gateway.graphql(await auditor_token(gateway), SEARCH, {"f": where})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert says in error["message"]


async def test_valid_filters_still_find_the_event(probe_gateway: Gateway) -> None:
    gateway = probe_gateway
    index = await _probe(gateway)
    auditor = await auditor_token(gateway)
    where = {
        # Spaced, with full-width brackets: normalised as the log normalised them.
        "subjectId": f" {RESIDENT_IDS[0][:6]} {RESIDENT_IDS[0][6:]} ",
        "caseNumber": "（2024）豫0823执123号",
        "outcome": "ok",
        "kind": "outcome",
        "agencyId": "bank-icbc",
        "since": "2020-01-01T00:00:00Z",
        "until": "2100-01-01T00:00:00Z",
    }
    assert [node["index"] for node in await _search(gateway, auditor, where)] == [index]


async def test_an_unreadable_entry_is_an_error_not_a_guess(probe_gateway: Gateway) -> None:
    gateway = probe_gateway
    index = await _probe(gateway)
    _tamper(gateway, index, entry=b'{"index": %d}' % index)
    auditor = await auditor_token(gateway)
    for query, variables in ((EVENT, {"i": index}), (SEARCH, {"f": {}})):
        response = await gateway.graphql(auditor, query, variables)
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "AUDIT_ENTRY_INVALID"
        assert f"Audit event {index} cannot be read" in error["message"]
