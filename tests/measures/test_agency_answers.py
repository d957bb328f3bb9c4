"""Agencies answer later, reject with a reason, or let a measure lapse: the officer sees it,
the background refresh records it, and the auditor finds each step. Also the control
conformance suite, run against the bank ledger and the SDK's test double."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable
from pathlib import Path

import pytest

from connectors.control import (
    AssetRef,
    ControlConnector,
    LegalDocument,
    MeasureOrder,
    MeasureReport,
)
from connectors.registry import build_controlled
from connectors.sdk import AgencyUnavailable, LegalAuthority, parse_subject
from connectors.testing import ScriptedControls, run_control_conformance
from gateway.measures.refresh import refresh_round
from tests.measures.conftest import Desk

EXPIRING = """query($days: Int!) { expiringMeasures(days: $days) { id effectiveUntil status } }"""


async def test_an_agency_that_rejects_gives_its_reason_to_the_officer(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    bank = desk.banks[account["agency"]["id"]]
    rejecting = ScriptedControls(bank, bank.controlled, reject_with="账户已销户 (account closed)")
    services = desk.gateway.services
    services.agencies = services.agencies.replacing(bank.identity.id, rejecting)
    body = await desk.freeze(account)

    assert "errors" not in body, body
    rejected = body["data"]["freeze"]
    assert rejected["status"] == "REJECTED"
    assert rejected["reason"] == "账户已销户 (account closed)"
    steps = [s for e in await desk.audit(rejected["id"]) for s in e["measures"]]
    assert ("answered", "rejected", "账户已销户 (account closed)") in {
        (s["step"], s["status"], s["reason"]) for s in steps
    }
    # A rejected freeze does not block a new one on the same account.
    services.agencies = services.agencies.replacing(bank.identity.id, bank)
    again = await desk.freeze(account)
    assert again["data"]["freeze"]["status"] == "ACCEPTED"


async def test_the_background_refresh_records_late_execution(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    body = await desk.freeze(account)
    measure_id = body["data"]["freeze"]["id"]

    assert await refresh_round(desk.gateway.services) == 1
    assert await refresh_round(desk.gateway.services) == 0  # Nothing new to record.
    rows = await desk.my_measures()
    assert rows[0]["status"] == "EXECUTED"
    assert rows[0]["amount"] == "1000.00"
    events = await desk.audit(measure_id)
    reported = [e for e in events if e["kind"] == "measure"]
    assert [s["status"] for e in reported for s in e["measures"]] == ["executed"]


async def test_an_unreachable_agency_leaves_the_order_submitted_and_it_is_sent_again(
    desk: Desk,
) -> None:
    account = (await desk.investigate())[0]
    bank = desk.banks[account["agency"]["id"]]
    services = desk.gateway.services
    down = _Unreachable(bank, bank.controlled)
    services.agencies = services.agencies.replacing(bank.identity.id, down)
    body = await desk.freeze(account)
    assert body["data"]["freeze"]["status"] == "SUBMITTED"

    services.agencies = services.agencies.replacing(bank.identity.id, bank)
    await refresh_round(services)  # Submitted again (the same order): accepted.
    await refresh_round(services)  # Then executed.
    assert (await desk.my_measures())[0]["status"] == "EXECUTED"


async def test_expiry_is_marked_audited_and_a_lapsed_measure_cannot_be_renewed(
    desk: Desk,
) -> None:
    soon = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    _, frozen = await desk.freeze_executed(until=soon)
    _, later = await _freeze_another(desk)

    body = await desk.call(EXPIRING, {"days": 30})
    assert [m["id"] for m in body["data"]["expiringMeasures"]] == [frozen["id"]]
    assert later["id"] not in {m["id"] for m in body["data"]["expiringMeasures"]}

    store = desk.gateway.services.measures
    assert store is not None
    row = store.get(frozen["id"])
    assert row is not None
    # The period ran out (the clock is not moved: the last day is set in the past).
    store.update(row, until=datetime.date.today() - datetime.timedelta(days=1))
    assert await refresh_round(desk.gateway.services) == 1

    assert (await desk.measure(frozen["id"]))["status"] == "EXPIRED"
    renewed = await desk.act("renewFreeze", frozen["id"])
    assert renewed["errors"][0]["extensions"]["code"] == "MEASURE_NOT_IN_FORCE"
    steps = [s["step"] for e in await desk.audit(frozen["id"]) for s in e["measures"]]
    assert steps[-1] == "expired"


async def _freeze_another(desk: Desk) -> tuple[dict[str, object], dict[str, object]]:
    accounts = await desk.investigate()
    body = await desk.freeze(accounts[1])
    measure = await desk.measure(body["data"]["freeze"]["id"])
    return accounts[1], measure


class _Unreachable(ScriptedControls):
    """A bank whose control endpoint is down."""

    async def submit(self, order: MeasureOrder) -> MeasureReport:
        raise AgencyUnavailable("down", agency_id=self.identity.id)


def _order_factory(account: str, holder: str) -> Callable[[str], MeasureOrder]:
    today = datetime.date.today()

    def make(measure_id: str) -> MeasureOrder:
        return MeasureOrder(
            measure_id=measure_id,
            kind="freeze",
            authority=LegalAuthority("(2025)豫0823执1000号", "court-wuzhi", "o-1", "notice"),
            subject=parse_subject("resident_id", holder),
            asset=AssetRef("bank.accounts", account),
            ruling=LegalDocument("(2025)豫0823执1000号之一", today),
            notice=LegalDocument("(2025)豫0823执1000号之二", today),
            amount="10.00",
            until=today + datetime.timedelta(days=30),
        )

    return make


@pytest.mark.parametrize("double", [False, True])
async def test_control_conformance(desk: Desk, tmp_path: Path, double: bool) -> None:
    accounts = await desk.investigate()
    agency = desk.world.agency(accounts[0]["agency"]["id"])
    ledger = f"sqlite:///{tmp_path / 'conformance.sqlite'}"
    bank = build_controlled("bank", agency.identity, agency.database_url, ledger)
    try:
        holder = desk.case.respondents[0].id_number
        subject: ControlConnector = ScriptedControls(bank, bank.controlled) if double else bank
        make = _order_factory(accounts[0]["accountNumber"], holder)
        await run_control_conformance(subject, make)
    finally:
        bank.close()


async def test_two_refresh_rounds_at_once_record_a_change_once(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    body = await desk.freeze(account)
    measure_id = body["data"]["freeze"]["id"]
    services = desk.gateway.services

    changed = await asyncio.gather(refresh_round(services), refresh_round(services))

    assert sorted(changed) == [0, 1]
    reported = [e for e in await desk.audit(measure_id) if e["kind"] == "measure"]
    assert len(reported) == 1
