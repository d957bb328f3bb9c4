"""`credgate policy explain --control`: why a measure is permitted or denied."""

from __future__ import annotations

import json

import pytest

from gateway.cli import main
from gateway.policy import DEFAULT_POLICY_DIR

OFFICER = [
    "policy", "explain", "--json", "--principal-role", "officer", "--court", "court-wuzhi",
    "--scope", "control", "--case-court", "court-wuzhi", "--case-open", "--officer-assigned",
    "--subject-is-respondent", "--control", "bank.accounts",
]  # fmt: skip


def _decision(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    (decision,) = json.loads(capsys.readouterr().out)["fields"]
    assert isinstance(decision, dict)
    return decision


def test_explain_control_names_the_policies_behind_a_deduction(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*OFFICER, "--measure-kind", "deduct"]) == 0
    denied = _decision(capsys)
    assert main([*OFFICER, "--measure-kind", "deduct", "--presiding-officer"]) == 0
    permitted = _decision(capsys)
    assert main([*OFFICER, "--measure-kind", "freeze", "--no-ruling-given"]) == 0
    no_ruling = _decision(capsys)

    assert denied["decision"] == "denied"
    assert [p["id"] for p in denied["policies"]] == ["gateway.deduct-needs-presiding-officer"]  # type: ignore[attr-defined]
    assert permitted["decision"] == "permitted"
    assert permitted["policies"] == [
        {
            "id": "bank.officer-accounts-control",
            "effect": "permit",
            "at": f"{DEFAULT_POLICY_DIR / 'bank.cedar'}:29",
        }
    ]
    assert no_ruling["decision"] == "denied"
    assert "gateway.measure-needs-ruling" in [p["id"] for p in no_ruling["policies"]]  # type: ignore[attr-defined]


def test_explain_control_refuses_an_uncontrolled_dataset(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["policy", "explain", "--principal-role", "officer", "--control", "tax.refunds"]
    assert main(args) == 2
    assert "no measures are taken on tax.refunds" in capsys.readouterr().err
    assert main(["policy", "explain", "--principal-role", "officer"]) == 2


@pytest.mark.parametrize(
    ("dataset", "kind", "policy_id"),
    [
        ("provident_fund.accounts", "freeze", "provident_fund.officer-accounts-control"),
        ("real_estate.rights", "seal_up", "real_estate.officer-rights-control"),
        ("public_security.vehicles", "seal_up", "public_security.officer-vehicles-control"),
        ("market_regulation.equity", "freeze_equity", "market_regulation.officer-equity-control"),
    ],
)
def test_explain_control_on_every_controlled_asset_class(
    capsys: pytest.CaptureFixture[str], dataset: str, kind: str, policy_id: str
) -> None:
    args = [*OFFICER[:-1], dataset, "--measure-kind", kind]
    assert main(args) == 0
    permitted = _decision(capsys)
    assert main([*args, "--no-ruling-given"]) == 0
    no_ruling = _decision(capsys)
    assert permitted["decision"] == "permitted"
    assert [p["id"] for p in permitted["policies"]] == [policy_id]  # type: ignore[attr-defined]
    assert no_ruling["decision"] == "denied"
