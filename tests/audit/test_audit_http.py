"""Every /graphql request is logged before its answer leaves, refused ones included."""

from __future__ import annotations

from collections.abc import AsyncIterator

from gateway.audit.receipt import verify_receipt
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.middleware.request_context import REQUEST_ID_HEADER
from tests.audit.audit_support import (
    ME,
    PROBE,
    RESIDENT_IDS,
    audit_log,
    auditor_token,
    leaf_of_entry,
    officer_token,
    probe_gateway,
    token_for,
)
from tests.conftest import Gateway

__all__ = ["probe_gateway"]

EVENT = """query Event($index: Int!) {
  auditEvent(index: $index) {
    index kind outcome entry leafHash requestId authFailure errorCodes caseNumber
    subjectIds subjectBlindIndexes
    principal { clientId role officerId }
    agencies { agencyId outcome latencyMs }
    fields { name outcome policyIds }
    receipt { index leafHash timestamp signature }
    proof { treeSize hashes checkpoint }
  }
}"""


async def _event(gateway: Gateway, index: int) -> dict[str, object]:
    response = await gateway.graphql(await auditor_token(gateway), EVENT, {"index": index})
    assert response.status_code == 200, response.text
    event: dict[str, object] = response.json()["data"]["auditEvent"]
    return event


async def test_every_response_carries_a_receipt_for_its_own_event(probe_gateway: Gateway) -> None:
    token = await officer_token(probe_gateway)
    response = await probe_gateway.graphql(token, ME)
    assert response.status_code == 200
    receipt = response.json()["extensions"]["audit"]
    event = await _event(probe_gateway, receipt["index"])
    # The verifier rebuilds the leaf from the event, never trusting the receipt's hash.
    assert leaf_of_entry(str(event["entry"])) == receipt["leafHash"] == event["leafHash"]
    key = audit_log(probe_gateway).verifier.public_key
    leaf = __import__("base64").b64decode(receipt["leafHash"])
    verify_receipt(key, receipt, receipt["index"], leaf)
    assert event["kind"] == "outcome"
    assert event["outcome"] == "ok"
    assert event["requestId"] == response.headers[REQUEST_ID_HEADER.decode()]


async def test_refused_requests_are_logged_with_their_reason(probe_gateway: Gateway) -> None:
    gateway = probe_gateway
    missing = await gateway.http.post("/graphql", json={"query": ME})
    bad_token = await gateway.http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": "Bearer eyJhbGciOi.bad.token"}
    )
    token = await officer_token(gateway)
    bad_json = await gateway.http.post(
        "/graphql",
        content=b"{not json",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    invalid = await gateway.graphql(token, "{ nosuchfield }")
    no_scope = await gateway.graphql(token, "{ auditEvent(index: 0) { index } }")
    expected = [
        (missing, 401, "missing_token", "UNAUTHENTICATED"),
        (bad_token, 401, "invalid_token", "UNAUTHENTICATED"),
        (bad_json, 400, None, "BAD_REQUEST"),
        (invalid, 400, None, "GRAPHQL_VALIDATION_FAILED"),
        (no_scope, 403, None, "INSUFFICIENT_SCOPE"),
    ]
    for response, status, failure, code in expected:
        assert response.status_code == status, response.text
        event = await _event(gateway, response.json()["extensions"]["audit"]["index"])
        assert event["outcome"] == "refused"
        assert event["authFailure"] == failure
        assert code in event["errorCodes"]  # type: ignore[operator]
        assert (event["principal"] is None) == (failure is not None)
        assert "eyJhbGciOi" not in str(event["entry"])


async def test_a_streamed_oversized_body_is_refused_and_logged(probe_gateway: Gateway) -> None:
    limit = probe_gateway.settings.max_body_bytes
    token = await officer_token(probe_gateway)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: trips while streaming
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    response = await probe_gateway.http.post(
        "/graphql",
        content=chunks(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    index = response.json()["extensions"]["audit"]["index"]
    event = await _event(probe_gateway, index)
    assert event["errorCodes"] == ["PAYLOAD_TOO_LARGE"]


async def test_a_declared_oversized_body_is_refused_unread_and_logged(
    probe_gateway: Gateway,
) -> None:
    limit = probe_gateway.settings.max_body_bytes
    token = await officer_token(probe_gateway)
    response = await probe_gateway.http.post(
        "/graphql",
        content=b" " * (limit + 1),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    index = response.json()["extensions"]["audit"]["index"]
    event = await _event(probe_gateway, index)
    assert event["errorCodes"] == ["PAYLOAD_TOO_LARGE"]


async def test_auditors_search_by_subject_and_page_with_cursors(probe_gateway: Gateway) -> None:
    gateway = probe_gateway
    token = await officer_token(gateway)
    for subject in (RESIDENT_IDS[0], RESIDENT_IDS[1], RESIDENT_IDS[0].lower()):
        assert (await gateway.graphql(token, PROBE, {"subject": subject})).status_code == 200
    auditor = await auditor_token(gateway)
    query = """query($f: AuditEventFilter, $after: String) {
      auditEvents(filter: $f, first: 2, after: $after) {
        edges { cursor node { index kind subjectIds } } pageInfo { hasNextPage endCursor } } }"""
    found, after, pages = [], None, 0
    while pages < 10:
        variables = {"f": {"subjectId": RESIDENT_IDS[0], "kind": "outcome"}, "after": after}
        page = (await gateway.graphql(auditor, query, variables)).json()["data"]["auditEvents"]
        found += [edge["node"] for edge in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [node["subjectIds"] for node in found] == [[RESIDENT_IDS[0]], [RESIDENT_IDS[0]]]
    officer_filter = {"officerId": "officer-wz-001", "outcome": "ok", "agencyId": "bank-icbc"}
    response = await gateway.graphql(auditor, query, {"f": officer_filter})
    assert len(response.json()["data"]["auditEvents"]["edges"]) == 2


async def test_an_agency_sees_only_events_it_was_asked_in(probe_gateway: Gateway) -> None:
    gateway = probe_gateway
    officer = await officer_token(gateway)
    await gateway.graphql(officer, PROBE, {"subject": RESIDENT_IDS[2]})
    await gateway.graphql(officer, ME)
    query = "{ auditEvents { edges { node { kind agencies { agencyId } subjectIds } } } }"
    bank = await token_for(gateway, Role.AGENCY, {scopes.AUDIT_READ}, agency_id="bank-icbc")
    edges = (await gateway.graphql(bank, query)).json()["data"]["auditEvents"]["edges"]
    assert [edge["node"]["kind"] for edge in edges] == ["outcome"]
    assert edges[0]["node"]["subjectIds"] is None
    tax = await token_for(gateway, Role.AGENCY, {scopes.AUDIT_READ}, agency_id="tax-jiaozuo")
    assert (await gateway.graphql(tax, query)).json()["data"]["auditEvents"]["edges"] == []
    other = await gateway.graphql(
        tax, query.replace("auditEvents", 'auditEvents(filter: {agencyId: "bank-icbc"})')
    )
    assert other.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    officer_with_scope = await token_for(gateway, Role.OFFICER, {scopes.AUDIT_READ}, court_id="c")
    refused = await gateway.graphql(officer_with_scope, query)
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_audit_event_carries_an_inclusion_proof_once_checkpointed(
    probe_gateway: Gateway,
) -> None:
    from gateway.audit.canonical import decode_base64
    from gateway.audit.checkpoint import open_checkpoint
    from gateway.audit.merkle import leaf_hash, verify_inclusion

    token = await officer_token(probe_gateway)
    index = (await probe_gateway.graphql(token, ME)).json()["extensions"]["audit"]["index"]
    log = audit_log(probe_gateway)
    assert log.integrate_now()
    event = await _event(probe_gateway, index)
    proof = event["proof"]
    assert isinstance(proof, dict)
    checkpoint = open_checkpoint(proof["checkpoint"], log.verifier)
    leaf = leaf_hash(str(event["entry"]).encode())
    hashes = [decode_base64(h) for h in proof["hashes"]]
    verify_inclusion(leaf, index, checkpoint.size, hashes, checkpoint.root_hash)
