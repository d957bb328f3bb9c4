"""A deposit freeze through its whole life, through HTTP on SQLite and PostgreSQL:
investigate, freeze (accepted, then executed with its amount), renew, deduct, unfreeze,
and the auditor finding every step with its legal documents."""

from __future__ import annotations

import datetime
import re

from tests.measures.conftest import CLAIM_CENTS, FREEZE, NOTICE, RULING, Desk, request_id


async def test_freeze_is_accepted_then_executed_with_the_amount(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    body = await desk.freeze(account, amount="1000.00")

    assert "errors" not in body, body
    ordered = body["data"]["freeze"]
    assert ordered["status"] == "ACCEPTED"  # The bank executes on its next report.
    assert ordered["requestedAmount"] == "1000.00"
    assert ordered["amount"] is None
    assert ordered["ruling"] == RULING
    assert ordered["notice"] == NOTICE
    assert ordered["assetKey"] == account["accountNumber"]
    year = datetime.date.today() + datetime.timedelta(days=365)
    assert ordered["effectiveUntil"] == year.isoformat()  # Deposits: one year at most.

    executed = await desk.measure(ordered["id"])
    assert executed["status"] == "EXECUTED"
    assert executed["amount"] == "1000.00"
    assert re.fullmatch(r"R[0-9A-F]{11}", executed["agencyReference"])
    assert [m["id"] for m in await desk.my_measures()] == [ordered["id"]]


async def test_a_freeze_holds_at_most_the_balance_available(desk: Desk) -> None:
    accounts = await desk.investigate()
    poorest = min(accounts, key=lambda a: float(a["balance"]))
    balance = float(poorest["balance"])
    body = await desk.freeze(poorest, amount="49999.00")

    assert "errors" not in body, body
    executed = await desk.measure(body["data"]["freeze"]["id"])
    assert executed["status"] == "EXECUTED"
    assert float(executed["amount"]) == max(min(balance, 49999.0), 0.0)


async def test_renew_deduct_unfreeze_and_every_step_is_audited(desk: Desk) -> None:
    shorter = (datetime.date.today() + datetime.timedelta(days=200)).isoformat()
    _, frozen = await desk.freeze_executed(amount="2000.00", until=shorter)
    freeze_id = frozen["id"]
    assert frozen["effectiveUntil"] == shorter

    # A renewal must extend the period; it may last the longest period from today.
    same_day = await desk.act("renewFreeze", freeze_id, until=shorter)
    assert same_day["errors"][0]["extensions"]["code"] == "PERIOD_OVER_LIMIT"
    renewed = await desk.act("renewFreeze", freeze_id)
    assert "errors" not in renewed, renewed
    renewal = await desk.measure(renewed["data"]["renewFreeze"]["id"])
    assert renewal["status"] == "EXECUTED"
    assert renewal["actsOn"] == freeze_id
    year = (datetime.date.today() + datetime.timedelta(days=365)).isoformat()
    assert renewal["effectiveUntil"] == year
    assert (await desk.measure(freeze_id))["effectiveUntil"] == year

    deducted = await desk.act("deduct", freeze_id, amount="500.00")
    assert "errors" not in deducted, deducted
    deduction = await desk.measure(deducted["data"]["deduct"]["id"])
    assert deduction["status"] == "EXECUTED"
    assert deduction["amount"] == "500.00"

    lifted = await desk.act("unfreeze", freeze_id)
    assert "errors" not in lifted, lifted
    unfreeze = await desk.measure(lifted["data"]["unfreeze"]["id"])
    assert unfreeze["status"] == "EXECUTED"
    assert (await desk.measure(freeze_id))["status"] == "RELEASED"

    events = await desk.audit(freeze_id)
    steps = [(s["kind"], s["step"], s["status"]) for e in events for s in e["measures"]]
    assert ("freeze", "ordered", "submitted") in steps
    assert ("freeze", "answered", "accepted") in steps
    assert ("freeze", "reported", "executed") in steps
    assert all(e["caseNumber"] == desk.case.case_number for e in events)
    intent = next(e for e in events if e["kind"] == "intent")
    assert intent["measures"][0]["ruling"] == RULING
    assert intent["measures"][0]["notice"] == NOTICE
    for acted in (renewal, deduction, unfreeze):
        acted_steps = [s for e in await desk.audit(acted["id"]) for s in e["measures"]]
        assert {s["step"] for s in acted_steps} >= {"ordered", "answered", "reported"}
        assert all(s["actsOn"] == freeze_id for s in acted_steps)
    answered = next(e for e in events if e["kind"] == "outcome" and e["operationKind"] == "freeze")
    assert answered["agencies"][0]["outcome"] == "ok"


async def test_the_same_request_id_answers_the_same_measure_and_orders_once(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    given = desk.freeze_input(account)
    first = await desk.call(FREEZE, {"input": given})
    again = await desk.call(FREEZE, {"input": given})

    assert first["data"]["freeze"]["id"] == again["data"]["freeze"]["id"] == given["requestId"]
    assert len(await desk.my_measures()) == 1
    other = dict(given, amount="1200.00")
    clash = await desk.call(FREEZE, {"input": other})
    assert clash["errors"][0]["extensions"]["code"] == "REQUEST_ID_CONFLICT"
    assert len(await desk.my_measures()) == 1


async def test_a_deduction_is_bounded_by_the_claim_left(desk: Desk) -> None:
    assert CLAIM_CENTS == 5_000_000
    _, frozen = await desk.freeze_executed(amount="1000.00")
    body = await desk.act("deduct", frozen["id"], amount="1000.00", requestId=request_id())
    assert "errors" not in body, body
    # Everything frozen is taken: nothing more can be deducted from this freeze.
    more = await desk.act("deduct", frozen["id"], amount="0.01")
    assert more["errors"][0]["extensions"]["code"] == "AMOUNT_OVER_LIMIT"
    assert more["errors"][0]["extensions"]["limit"] == "0.00"
