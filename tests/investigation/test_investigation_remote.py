"""Investigations over the signed HTTP transport: a misbehaving remote agency costs
only its own fields, with a typed error and an audit entry holding the digests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from connectors.remote import RemoteAgency, RemoteConnector
from connectors.service import create_service
from connectors.signing import MessageKey, TrustedKeys
from gateway.audit.store import AuditStore
from tests.connectors.fake_agency import FakeAgency
from tests.connectors.servers import ServerThread, key_pair, serving
from tests.investigation.conftest import Investigator

AGENCY = "tax-jiaozuo"
DEADLINE_S = 0.3


def _gateway_key(investigator: Investigator) -> MessageKey:
    return MessageKey.of(investigator.gateway.services.keys.gateway_signing.private_key)


@pytest.fixture
def fake(investigator: Investigator, tmp_path: Path) -> Iterator[tuple[FakeAgency, ServerThread]]:
    agency_key, _ = key_pair(tmp_path, "agency")
    stranger, _ = key_pair(tmp_path, "stranger")
    gateway_trust = TrustedKeys([_gateway_key(investigator).public_key])
    agency = FakeAgency(AGENCY, agency_key, gateway_trust, stranger)
    with serving(agency.app) as server:
        yield agency, server


def _use_remote(investigator: Investigator, url: str, agency_key: MessageKey) -> RemoteConnector:
    identity = investigator.recorders[AGENCY].identity
    remote = RemoteConnector(
        RemoteAgency(identity, url, TrustedKeys([agency_key.public_key]), deadline_s=DEADLINE_S),
        _gateway_key(investigator),
    )
    investigator.replace(AGENCY, remote, deadline_s=DEADLINE_S + 0.25)
    return remote


def _last_call(investigator: Investigator) -> dict[str, Any]:
    store = AuditStore(investigator.gateway.services.engine)
    calls = [
        call
        for row in store.iter_events()
        for call in orjson.loads(row.entry).get("agencies", [])
        if call["agencyId"] == AGENCY and call["outcome"] != "pending"
    ]
    return calls[-1]


FAULTS = [
    ("bad_signature", "BAD_AGENCY_RESPONSE"),
    ("other_request", "BAD_AGENCY_RESPONSE"),
    ("unasked_field", "BAD_AGENCY_RESPONSE"),
    ("malformed_json", "BAD_AGENCY_RESPONSE"),
    ("status_500", "AGENCY_UNAVAILABLE"),
    ("slow", "AGENCY_TIMEOUT"),
]


@pytest.mark.parametrize(("mode", "code"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_a_misbehaving_remote_agency_costs_only_its_fields(
    investigator: Investigator, fake: tuple[FakeAgency, ServerThread], mode: str, code: str
) -> None:
    agency, server = fake
    agency.mode = mode
    remote = _use_remote(investigator, server.url, agency.key)
    try:
        body = await investigator.investigate(investigator.case())
    finally:
        await remote.aclose()
    errors = [e for e in body["errors"] if e["extensions"]["agency"] == AGENCY]
    assert {e["extensions"]["code"] for e in errors} == {code}
    found = body["data"]["investigation"]
    assert found["taxRefunds"] == [None]
    assert found["bankAccounts"]
    assert found["household"]["members"]
    call = _last_call(investigator)
    assert call["outcome"] == code
    assert call["requestDigest"] == agency.request_digests[-1]  # the signed JWS itself
    assert (call["responseDigest"] is None) == (mode == "slow")


async def test_a_real_connector_service_answers_like_the_in_process_connector(
    investigator: Investigator, tmp_path: Path
) -> None:
    expected = (await investigator.investigate(investigator.case()))["data"]["investigation"]
    agency_key, _ = key_pair(tmp_path, "agency")
    trust = TrustedKeys([_gateway_key(investigator).public_key])
    tax = investigator.world.agency(AGENCY).build_connector()
    try:
        with serving(create_service(tax, agency_key, trust)) as server:
            remote = _use_remote(investigator, server.url, agency_key)
            try:
                body = await investigator.investigate(investigator.case())
            finally:
                await remote.aclose()
    finally:
        tax.close()
    assert "errors" not in body
    assert body["data"]["investigation"]["taxRefunds"] == expected["taxRefunds"]
    call = _last_call(investigator)
    assert call["outcome"] == "ok"
    assert len(call["requestDigest"]) == 64
    assert len(call["responseDigest"]) == 64
