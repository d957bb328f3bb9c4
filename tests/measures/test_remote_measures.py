"""Measures over the signed HTTP transport: a bank's connector service on 127.0.0.1 takes
the freeze, reports it executed, renews and deducts; the answers are bound to the requests
(digests in the audit log), replays and fetch tokens are refused at /v1/control."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from connectors.control import AssetRef, LegalDocument, MeasureOrder
from connectors.control_ledger import ControlledConnector
from connectors.control_transport import sign_control, verify_control_response
from connectors.remote import RemoteAgency, RemoteConnector
from connectors.sdk import DatasetQuery, FetchRequest, LegalAuthority, parse_subject
from connectors.service import create_service
from connectors.signing import CONTENT_TYPE, MessageKey, TrustedKeys, sign_request
from tests.connectors.servers import ServerThread, key_pair, serving
from tests.measures.conftest import Desk


def _gateway_key(desk: Desk) -> MessageKey:
    return MessageKey.of(desk.gateway.services.keys.gateway_signing.private_key)


@pytest.fixture
def served(
    desk: Desk, tmp_path: Path
) -> Iterator[tuple[ControlledConnector, MessageKey, ServerThread]]:
    bank = desk.banks["bank-icbc"]
    agency_key, _ = key_pair(tmp_path, "agency")
    trust = TrustedKeys([_gateway_key(desk).public_key])
    with serving(create_service(bank, agency_key, trust)) as server:
        yield bank, agency_key, server


async def test_a_freeze_renewal_and_deduction_through_the_remote_transport(
    desk: Desk, served: tuple[ControlledConnector, MessageKey, ServerThread]
) -> None:
    bank, agency_key, server = served
    remote = RemoteConnector(
        RemoteAgency(bank.identity, server.url, TrustedKeys([agency_key.public_key])),
        _gateway_key(desk),
    )
    services = desk.gateway.services
    services.agencies = services.agencies.replacing(bank.identity.id, remote)
    try:
        accounts = [a for a in await desk.investigate() if a["agency"]["id"] == bank.identity.id]
        soon = (datetime.date.today() + datetime.timedelta(days=100)).isoformat()
        body = await desk.freeze(accounts[0], amount="800.00", until=soon)
        assert body["data"]["freeze"]["status"] == "ACCEPTED", body
        frozen = await desk.measure(body["data"]["freeze"]["id"])
        assert frozen["status"] == "EXECUTED"
        assert frozen["amount"] == "800.00"
        renewed = await desk.act("renewFreeze", frozen["id"])
        assert (await desk.measure(renewed["data"]["renewFreeze"]["id"]))["status"] == "EXECUTED"
        deducted = await desk.act("deduct", frozen["id"], amount="300.00")
        deduction = await desk.measure(deducted["data"]["deduct"]["id"])
        assert deduction["amount"] == "300.00"
    finally:
        await remote.aclose()
    events = await desk.audit(frozen["id"])
    calls = [c for e in events for c in e["agencies"] if c["outcome"] == "ok"]
    assert calls
    assert all(len(c["responseDigest"]) == 64 for c in calls)


def _order(desk: Desk) -> MeasureOrder:
    today = datetime.date.today()
    return MeasureOrder(
        measure_id="remote-order-0001",
        kind="freeze",
        authority=LegalAuthority(desk.case.case_number, "court-wuzhi", "officer-wz-001", "n"),
        subject=parse_subject("resident_id", desk.case.respondents[0].id_number),
        asset=AssetRef("bank.accounts", "6222000000000000001"),
        ruling=LegalDocument("r", today),
        notice=LegalDocument("n", today),
        amount="1.00",
        until=today + datetime.timedelta(days=10),
    )


async def test_control_requests_are_verified_bound_and_never_replayed(
    desk: Desk, served: tuple[ControlledConnector, MessageKey, ServerThread]
) -> None:
    bank, agency_key, server = served
    key = _gateway_key(desk)
    signed = sign_control(key, agency_id=bank.identity.id, deadline_s=5, order=_order(desk))
    headers = {"Content-Type": CONTENT_TYPE}
    async with httpx.AsyncClient(base_url=server.url) as http:
        first = await http.post("/v1/control", content=signed.token, headers=headers)
        replay = await http.post("/v1/control", content=signed.token, headers=headers)
        fetch = sign_request(
            key,
            FetchRequest(
                "r-1",
                _order(desk).authority,
                _order(desk).subject,
                {"bank.accounts": DatasetQuery(frozenset({"balance"}))},
            ),
            agency_id=bank.identity.id,
            deadline_s=5,
        )
        confused = await http.post("/v1/control", content=fetch.token, headers=headers)
        datasets = (await http.get("/v1/datasets")).json()

    assert first.status_code == 200
    answer = verify_control_response(
        first.text, TrustedKeys([agency_key.public_key]), request=signed
    )
    assert answer.reports is not None
    (report,) = answer.reports
    # The account is not the subject's: the bank rejects, with its reason.
    assert report.status == "rejected"
    assert report.reason
    assert replay.status_code == 409
    assert confused.status_code == 401
    assert datasets["controlled"] == ["bank.accounts"]
