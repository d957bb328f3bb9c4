"""Measures on every controllable asset class through GraphQL over HTTP (SQLite and
PostgreSQL): provident-fund accounts, real estate rights, vehicles and equity, each with
its own kinds and legal period; refusals of the wrong kind, of an asset no investigation
returned and of a second measure on one asset, also when two orders race."""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from connectors.control import ASSET_CLASS_SPECS, CONTROLLED_DATASETS
from gateway.measures.store import AssetUnderMeasure, MeasureStore
from tests.measures.conftest import MEASURE_FIELDS, NOTICE, RULING, TODAY, Desk, request_id


@dataclass(frozen=True)
class AssetClassCase:
    """One controllable dataset as an officer meets it."""

    dataset: str
    agency_id: str
    field: str  # Investigation's field
    key: str  # the key's GraphQL name
    place: str  # the placing mutation
    lift: str  # the lifting mutation
    days: int  # the longest period (SPC interpretation of the CPL, art. 487)
    amount: str | None  # what a placement names (money only)


FUND = AssetClassCase(
    "provident_fund.accounts",
    "provident-fund-jiaozuo",
    "providentFundAccounts",
    "accountNumber",
    "freeze",
    "unfreeze",
    365,
    "1000.00",
)
REAL_ESTATE = AssetClassCase(
    "real_estate.rights",
    "real-estate-jiaozuo",
    "realEstateRights",
    "certificateNumber",
    "sealUp",
    "releaseSeal",
    1095,
    None,
)
VEHICLE = AssetClassCase(
    "public_security.vehicles",
    "public-security-jiaozuo",
    "vehicles",
    "plate",
    "sealUp",
    "releaseSeal",
    730,
    None,
)
EQUITY = AssetClassCase(
    "market_regulation.equity",
    "market-regulation-jiaozuo",
    "equityHoldings",
    "holdingId",
    "freezeEquity",
    "unfreeze",
    1095,
    None,
)
CASES = [FUND, REAL_ESTATE, VEHICLE, EQUITY]
PLACE = "mutation($input: PlaceMeasureInput!) {{ {name}(input: $input) {{ {fields} }} }}"


def _days(n: int) -> str:
    return (TODAY + datetime.timedelta(days=n)).isoformat()


async def _found(desk: Desk, case: AssetClassCase) -> list[str]:
    """The keys of the assets an investigation of the first respondent returns (remembered)."""
    query = (
        "query($caseNumber: String!, $subject: SubjectInput!) { investigation("
        "caseNumber: $caseNumber, subject: $subject) { "
        f"{case.field} {{ agency {{ id }} {case.key} }} }} }}"
    )
    body = await desk.call(query, {"caseNumber": desk.case.case_number, "subject": desk.subject()})
    assert "errors" not in body, body
    keys = [r[case.key] for r in body["data"]["investigation"][case.field]]
    assert keys, body
    assert all("*" not in k for k in keys), keys  # seen in full, so orderable
    return keys


async def _place(
    desk: Desk, name: str, dataset: str, agency_id: str, key: str, **changes: Any
) -> Any:
    given: dict[str, Any] = {
        "requestId": request_id(name),
        "caseNumber": desk.case.case_number,
        "subject": desk.subject(),
        "agencyId": agency_id,
        "dataset": dataset,
        "assetKey": key,
        "ruling": RULING,
        "notice": NOTICE,
    }
    given.update(changes)
    query = PLACE.format(name=name, fields=MEASURE_FIELDS)
    return await desk.call(query, {"input": {k: v for k, v in given.items() if v is not None}})


def _code(body: Any) -> str:
    assert "errors" in body, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def test_each_controlled_dataset_is_declared_once_with_its_class() -> None:
    declared = {name: c.asset_class for name, c in CONTROLLED_DATASETS.items()}
    assert declared == {
        "bank.accounts": "deposit",
        "provident_fund.accounts": "provident_fund",
        "real_estate.rights": "real_estate",
        "public_security.vehicles": "vehicle",
        "market_regulation.equity": "equity",
    }
    assert ASSET_CLASS_SPECS["provident_fund"].kinds == (
        "freeze",
        "renew_freeze",
        "unfreeze",
        "deduct",
    )
    assert ASSET_CLASS_SPECS["real_estate"].kinds == ("seal_up", "renew_freeze", "release_seal")


@pytest.mark.parametrize("case", CASES, ids=[c.dataset for c in CASES])
async def test_the_round_trip_on_each_asset_class(desk: Desk, case: AssetClassCase) -> None:
    key = (await _found(desk, case))[0]

    too_long = await _place(
        desk, case.place, case.dataset, case.agency_id, key, amount=case.amount,
        until=_days(case.days + 1),
    )  # fmt: skip
    assert _code(too_long) == "PERIOD_OVER_LIMIT"
    assert too_long["errors"][0]["extensions"]["limit"] == _days(case.days)

    placed = await _place(
        desk, case.place, case.dataset, case.agency_id, key, amount=case.amount, until=_days(30)
    )
    assert "errors" not in placed, placed
    ordered = placed["data"][case.place]
    assert ordered["status"] == "ACCEPTED"
    assert (ordered["dataset"], ordered["assetKey"], ordered["agencyId"]) == (
        case.dataset,
        key,
        case.agency_id,
    )
    executed = await desk.measure(ordered["id"])
    assert executed["status"] == "EXECUTED"
    assert executed["agencyReference"]
    assert executed["amount"] == case.amount  # money is held; a whole asset names none
    assert executed["effectiveUntil"] == _days(30)

    renewed = await desk.act("renewFreeze", ordered["id"], until=_days(case.days))
    assert "errors" not in renewed, renewed
    assert (await desk.measure(renewed["data"]["renewFreeze"]["id"]))["status"] == "EXECUTED"
    assert (await desk.measure(ordered["id"]))["effectiveUntil"] == _days(case.days)

    if case is FUND:
        over = await desk.act("deduct", ordered["id"], amount="1000.01")
        assert _code(over) == "AMOUNT_OVER_LIMIT"
        assert over["errors"][0]["extensions"]["limit"] == "1000.00"
        taken = await desk.act("deduct", ordered["id"], amount="400.00")
        assert "errors" not in taken, taken
        deduction = await desk.measure(taken["data"]["deduct"]["id"])
        assert (deduction["status"], deduction["amount"]) == ("EXECUTED", "400.00")
        over_left = await desk.act("deduct", ordered["id"], amount="600.01")
        assert over_left["errors"][0]["extensions"]["limit"] == "600.00"

    lifted = await desk.act(case.lift, ordered["id"])
    assert "errors" not in lifted, lifted
    assert (await desk.measure(lifted["data"][case.lift]["id"]))["status"] == "EXECUTED"
    assert (await desk.measure(ordered["id"]))["status"] == "RELEASED"

    # Lifted, the asset is free again: a new placement is taken.
    again = await _place(desk, case.place, case.dataset, case.agency_id, key, amount=case.amount)
    assert "errors" not in again, again
    assert (await desk.measure(again["data"][case.place]["id"]))["effectiveUntil"] == _days(
        case.days
    )


@pytest.mark.parametrize("case", CASES, ids=[c.dataset for c in CASES])
async def test_refusals_on_each_asset_class(desk: Desk, case: AssetClassCase) -> None:
    never_found = await _place(
        desk, case.place, case.dataset, case.agency_id, "NEVER-RETURNED-0001", amount=case.amount
    )
    assert _code(never_found) == "ASSET_NOT_INVESTIGATED"

    key = (await _found(desk, case))[0]
    wrong = "freeze" if case.place != "freeze" else "sealUp"
    misfit = await _place(desk, wrong, case.dataset, case.agency_id, key)
    assert _code(misfit) == "MEASURE_NOT_APPLICABLE"
    if case.amount is None:
        whole = await _place(desk, case.place, case.dataset, case.agency_id, key, amount="1.00")
        assert _code(whole) == "BAD_USER_INPUT"

    first = await _place(desk, case.place, case.dataset, case.agency_id, key, amount=case.amount)
    assert "errors" not in first, first
    measure_id = first["data"][case.place]["id"]
    twice = await _place(desk, case.place, case.dataset, case.agency_id, key, amount=case.amount)
    assert _code(twice) == "ALREADY_UNDER_MEASURE"
    assert twice["errors"][0]["extensions"]["existingMeasureId"] == measure_id

    await desk.measure(measure_id)  # executed
    if case is not FUND:
        deduct = await desk.act("deduct", measure_id, amount="1.00")
        assert _code(deduct) == "MEASURE_NOT_APPLICABLE"
    other_lift = "releaseSeal" if case.lift == "unfreeze" else "unfreeze"
    assert _code(await desk.act(other_lift, measure_id)) == "MEASURE_NOT_APPLICABLE"


async def test_a_seal_up_on_a_bank_account_is_refused(desk: Desk) -> None:
    account = (await desk.investigate())[0]
    body = await _place(
        desk, "sealUp", "bank.accounts", account["agency"]["id"], account["accountNumber"]
    )
    assert _code(body) == "MEASURE_NOT_APPLICABLE"


@pytest.mark.parametrize("bypass_check", [False, True], ids=["as-is", "both-pass-the-check"])
async def test_two_concurrent_orders_on_one_asset_one_succeeds(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, bypass_check: bool
) -> None:
    key = (await _found(desk, VEHICLE))[0]
    if bypass_check:
        # Both orders pass the gateway's look-up, as when they interleave exactly:
        # the database's unique index alone must then refuse the second.
        monkeypatch.setattr(MeasureStore, "active_on_asset", lambda *_: None)
    bodies = await asyncio.gather(
        *(_place(desk, "sealUp", VEHICLE.dataset, VEHICLE.agency_id, key) for _ in range(2))
    )
    won = [b for b in bodies if "errors" not in b]
    lost = [b for b in bodies if "errors" in b]
    assert len(won) == 1, bodies
    assert len(lost) == 1, bodies
    assert _code(lost[0]) == "ALREADY_UNDER_MEASURE"
    winner = won[0]["data"]["sealUp"]["id"]
    assert lost[0]["errors"][0]["extensions"]["existingMeasureId"] == winner
    monkeypatch.undo()
    mine = [m for m in await desk.my_measures() if m["assetKey"] == key]
    assert [m["id"] for m in mine] == [winner]


async def test_the_store_refuses_a_second_active_placement(desk: Desk) -> None:
    key = (await _found(desk, REAL_ESTATE))[0]
    placed = await _place(desk, "sealUp", REAL_ESTATE.dataset, REAL_ESTATE.agency_id, key)
    store = desk.gateway.services.measures
    assert store is not None
    first = store.get(placed["data"]["sealUp"]["id"])
    assert first is not None
    with pytest.raises(AssetUnderMeasure) as refused:
        store.insert(
            first.__class__(**{**first.__dict__, "id": "race-0000002", "status": "submitted"})
        )
    assert refused.value.existing is not None
    assert refused.value.existing.id == first.id
    # A rejected or lifted placement does not hold the asset.
    assert store.insert(
        first.__class__(**{**first.__dict__, "id": "race-0000003", "status": "rejected"})
    )


@pytest.mark.parametrize("case", CASES, ids=[c.dataset for c in CASES])
async def test_explain_measure_on_each_asset_class(desk: Desk, case: AssetClassCase) -> None:
    kind = {"freeze": "FREEZE", "sealUp": "SEAL_UP", "freezeEquity": "FREEZE_EQUITY"}[case.place]
    query = f"""query($c: String!, $s: SubjectInput!) {{ explainMeasure(caseNumber: $c,
      subject: $s, kind: {kind}, dataset: "{case.dataset}") {{ allowed policyIds }} }}"""
    body = await desk.call(query, {"c": desk.case.case_number, "s": desk.subject()})
    assert "errors" not in body, body
    explained = body["data"]["explainMeasure"]
    assert explained["allowed"] is True
    assert explained["policyIds"] == [f"{case.dataset.split('.')[0]}.officer-" + {
        "provident_fund.accounts": "accounts-control",
        "real_estate.rights": "rights-control",
        "public_security.vehicles": "vehicles-control",
        "market_regulation.equity": "equity-control",
    }[case.dataset]]  # fmt: skip
