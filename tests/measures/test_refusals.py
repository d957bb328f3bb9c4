"""Every refusal the issue names gets a typed error and changes nothing: no measure is
stored and no bank is asked. Through HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import func, select

from connectors.control_ledger import measures as ledger_measures
from tests.measures.conftest import Desk


def _code(body: dict[str, Any]) -> str:
    assert body.get("data") in (None, {}) or all(v is None for v in body["data"].values()), body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def _orders_at_banks(desk: Desk) -> int:
    total = 0
    for bank in desk.banks.values():
        with bank.ledger._ledger.connect() as connection:
            total += connection.execute(
                select(func.count()).select_from(ledger_measures)
            ).scalar_one()
    return total


async def _unchanged(desk: Desk, stored: int, ordered: int) -> None:
    assert len(await desk.my_measures()) == stored
    assert _orders_at_banks(desk) == ordered


async def test_a_measure_without_a_ruling_or_notice_is_refused(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    no_ruling = await desk.freeze(account, ruling=None)
    no_notice = await desk.freeze(account, notice=None)
    future = (datetime.date.today() + datetime.timedelta(days=3)).isoformat()
    misdated = await desk.freeze(account, ruling={"number": "x号", "date": future})

    assert _code(no_ruling) == "RULING_REQUIRED"
    assert no_ruling["errors"][0]["extensions"]["field"] == "ruling"
    assert _code(no_notice) == "RULING_REQUIRED"
    assert _code(misdated) == "RULING_REQUIRED"
    await _unchanged(desk, 0, 0)


async def test_a_measure_on_a_closed_case_is_refused(desk: Desk) -> None:
    closed = next(c for c in desk.cases if c.status == "closed")
    account = (await desk.investigate())[0]
    body = await desk.freeze(account, caseNumber=closed.case_number, subject=desk.subject(closed))

    assert _code(body) == "FORBIDDEN"
    assert body["errors"][0]["extensions"]["reason"] == "CASE_CLOSED"
    await _unchanged(desk, 0, 0)


async def test_an_asset_the_investigation_never_returned_is_refused(desk: Desk) -> None:
    other = desk.cases[1]
    others = await desk.investigate(other)  # Another case's debtor's account.
    assert others
    body = await desk.freeze(others[0])
    uninvestigated = await desk.freeze(
        {"agency": {"id": "bank-icbc"}, "accountNumber": "6222000000000000000"}
    )

    assert _code(body) == "ASSET_NOT_INVESTIGATED"
    assert _code(uninvestigated) == "ASSET_NOT_INVESTIGATED"
    await _unchanged(desk, 0, 0)


async def test_freezing_more_than_the_claim_is_refused(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    body = await desk.freeze(account, amount="50000.01")

    assert _code(body) == "AMOUNT_OVER_LIMIT"
    assert body["errors"][0]["extensions"]["limit"] == "50000.00"
    await _unchanged(desk, 0, 0)


async def test_a_period_longer_than_the_law_allows_is_refused(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    too_long = (datetime.date.today() + datetime.timedelta(days=366)).isoformat()
    body = await desk.freeze(account, until=too_long)

    assert _code(body) == "PERIOD_OVER_LIMIT"
    await _unchanged(desk, 0, 0)


async def test_freezing_the_same_account_twice_names_the_existing_measure(desk: Desk) -> None:
    account, frozen = await desk.freeze_executed()
    again = await desk.freeze(account)

    assert _code(again) == "ALREADY_UNDER_MEASURE"
    assert again["errors"][0]["extensions"]["existingMeasureId"] == frozen["id"]
    await _unchanged(desk, 1, 1)


async def test_a_deduction_over_the_frozen_amount_is_refused(desk: Desk) -> None:
    _, frozen = await desk.freeze_executed(amount="300.00")
    body = await desk.act("deduct", frozen["id"], amount="300.01")

    assert _code(body) == "AMOUNT_OVER_LIMIT"
    assert body["errors"][0]["extensions"]["limit"] == "300.00"
    await _unchanged(desk, 1, 1)


async def test_a_deduction_needs_the_presiding_officer(desk: Desk) -> None:
    _, frozen = await desk.freeze_executed()
    body = await desk.act("deduct", frozen["id"], token=desk.colleague, amount="10.00")

    assert _code(body) == "FORBIDDEN"
    assert "gateway.deduct-needs-presiding-officer" in body["errors"][0]["extensions"]["policyIds"]
    explain = """query($c: String!, $s: SubjectInput!) {
      explainMeasure(caseNumber: $c, subject: $s, kind: DEDUCT) { allowed policyIds } }"""
    variables = {"c": desk.case.case_number, "s": desk.subject()}
    colleague = (await desk.call(explain, variables, desk.colleague))["data"]["explainMeasure"]
    presiding = (await desk.call(explain, variables))["data"]["explainMeasure"]
    assert colleague == {"allowed": False, "policyIds": ["gateway.deduct-needs-presiding-officer"]}
    assert presiding == {"allowed": True, "policyIds": ["bank.officer-accounts-control"]}
    # The colleague may still renew: only taking money needs the presiding officer.
    later = (datetime.date.today() + datetime.timedelta(days=365)).isoformat()
    assert frozen["effectiveUntil"] == later
    await _unchanged(desk, 1, 1)


async def test_an_unknown_measure_or_a_measure_not_in_force_is_refused(desk: Desk) -> None:
    unknown = await desk.act("unfreeze", "no-such-measure-id")
    assert _code(unknown) == "NOT_FOUND"
    _, frozen = await desk.freeze_executed()
    lifted = await desk.act("unfreeze", frozen["id"])
    assert (await desk.measure(lifted["data"]["unfreeze"]["id"]))["status"] == "EXECUTED"

    twice = await desk.act("unfreeze", frozen["id"])
    deduct = await desk.act("deduct", frozen["id"], amount="1.00")
    assert _code(twice) == "MEASURE_NOT_IN_FORCE"
    assert twice["errors"][0]["extensions"]["reason"] == "RELEASED"
    assert _code(deduct) == "MEASURE_NOT_IN_FORCE"
    await _unchanged(desk, 2, 2)


async def test_a_seal_release_does_not_apply_to_a_deposit_freeze(desk: Desk) -> None:
    _, frozen = await desk.freeze_executed()
    body = await desk.act("releaseSeal", frozen["id"])

    assert _code(body) == "MEASURE_NOT_APPLICABLE"
    await _unchanged(desk, 1, 1)


async def test_refused_measures_are_on_record_for_the_auditor(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    body = await desk.freeze(account, amount="60000.00")
    assert _code(body) == "AMOUNT_OVER_LIMIT"
    query = """{ auditEvents(filter: {outcome: "refused"}, first: 50) { edges { node {
      operationKind errorCodes caseNumber } } } }"""
    events = (await desk.call(query, {}, desk.auditor))["data"]["auditEvents"]["edges"]
    assert any(
        e["node"]["operationKind"] == "freeze" and "AMOUNT_OVER_LIMIT" in e["node"]["errorCodes"]
        for e in events
    ), events


async def test_seal_up_and_freeze_equity_do_not_apply_to_deposits(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    for name in ("sealUp", "freezeEquity"):
        query = f"mutation($input: PlaceMeasureInput!) {{ {name}(input: $input) {{ id }} }}"
        body = await desk.call(query, {"input": desk.freeze_input(account, amount=None)})
        assert _code(body) == "MEASURE_NOT_APPLICABLE", name
    await _unchanged(desk, 0, 0)
