"""The law's limits per asset class, declared once (connectors.control) and checked in one
place (gateway.measures.limits): what a new controlled dataset gets by its declaration."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest

from connectors.catalog import KINDS, AgencyKindSpec
from connectors.control import ASSET_CLASS_SPECS, CONTROLLED_DATASETS, ControlledDataset
from connectors.registry import asset_bindings, takes_measures
from gateway.measures import limits
from gateway.measures.errors import AmountOverLimit, MeasureNotInForce, PeriodOverLimit
from tests import pawnshop_kind

TODAY = datetime.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("asset_class", "kind", "lift", "days", "deductible"),
    [
        ("deposit", "freeze", "unfreeze", 365, True),
        ("provident_fund", "freeze", "unfreeze", 365, True),
        ("vehicle", "seal_up", "release_seal", 730, False),
        ("real_estate", "seal_up", "release_seal", 1095, False),
        ("equity", "freeze_equity", "unfreeze", 1095, False),
    ],
)
def test_each_asset_class_has_its_kinds_and_longest_period(
    asset_class: str, kind: str, lift: str, days: int, deductible: bool
) -> None:
    declared = ControlledDataset("x.assets", asset_class, "key")  # type: ignore[arg-type]
    spec = ASSET_CLASS_SPECS[declared.asset_class]
    assert (spec.placing_kind, spec.lifting_kind, spec.deductible) == (kind, lift, deductible)
    latest = TODAY + datetime.timedelta(days=days)
    assert limits.placement_until(declared, None, TODAY) == latest
    assert limits.placement_until(declared, latest, TODAY) == latest
    with pytest.raises(PeriodOverLimit) as refused:
        limits.placement_until(declared, latest + datetime.timedelta(days=1), TODAY)
    assert refused.value.extensions()["limit"] == latest.isoformat()


def test_deposits_are_declared_on_bank_accounts() -> None:
    accounts = CONTROLLED_DATASETS["bank.accounts"]
    assert (accounts.asset_class, accounts.key_field, accounts.amount_field) == (
        "deposit",
        "account_number",
        "balance",
    )


def test_renewal_and_deduction_limits() -> None:
    with pytest.raises(MeasureNotInForce):
        limits.check_renewal(TODAY - datetime.timedelta(days=1), TODAY, TODAY)
    with pytest.raises(PeriodOverLimit):
        limits.check_renewal(TODAY + datetime.timedelta(days=9), TODAY, TODAY)
    limits.check_renewal(TODAY, TODAY + datetime.timedelta(days=1), TODAY)
    with pytest.raises(AmountOverLimit) as over_claim:
        limits.check_deduction(501, frozen_left_cents=1000, claim_left_cents=500)
    assert over_claim.value.extensions()["limit"] == "5.00"
    limits.check_deduction(500, frozen_left_cents=1000, claim_left_cents=500)


def test_a_controllable_dataset_declares_its_key_and_money() -> None:
    accounts = KINDS.get("bank").datasets[0]
    connector = "connectors.bank.adapter:BankConnector"
    with pytest.raises(ValueError, match="money amount_field"):
        AgencyKindSpec("bank", "Banks", (replace(accounts, amount_field=None),), connector)
    with pytest.raises(ValueError, match="names its key_field"):
        AgencyKindSpec("bank", "Banks", (replace(accounts, key_field=None),), connector)
    with pytest.raises(ValueError, match="unknown asset class"):
        AgencyKindSpec("bank", "Banks", (replace(accounts, asset_class="gold"),), connector)


def test_a_kind_declaring_assets_its_connector_does_not_bind_is_refused() -> None:
    # The pawnshop's pledges declared movables, but its connector binds no assets.
    controlled = replace(pawnshop_kind.PLEDGES, asset_class="vehicle")
    KINDS.register(replace(pawnshop_kind.KIND, datasets=(controlled,)))
    try:
        assert takes_measures("pawnshop")
        assert CONTROLLED_DATASETS["pawnshop.pledges"].asset_class == "vehicle"
        with pytest.raises(ValueError, match="asset_bindings binds"):
            asset_bindings("pawnshop")
    finally:
        KINDS.unregister("pawnshop")
    assert "pawnshop.pledges" not in CONTROLLED_DATASETS
    assert takes_measures("bank")
    assert not takes_measures("tax")
