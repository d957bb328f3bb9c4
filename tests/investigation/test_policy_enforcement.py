"""Cedar field policies enforced through HTTP: refusals name the policy, denied data is
never requested, and a policy reloaded on a running gateway takes effect at once."""

from __future__ import annotations

import shutil
from pathlib import Path

from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.policy import DEFAULT_POLICY_DIR, CedarFieldPolicy
from gateway.policy_loader import load_policy_dir
from tests.investigation.conftest import COURT_ID, Investigator

BANK_QUERY = """query($caseNumber: String!, $subject: SubjectInput!) {
  investigation(caseNumber: $caseNumber, subject: $subject) {
    bankAccounts { accountNumber balance } } }"""

WITHHOLD_BALANCE = """
// A bank that withholds balances from the gateway altogether.
@id("bank.balance-withheld")
forbid (
  principal,
  action,
  resource == Credgate::Field::"bank.accounts.balance"
);
"""


async def test_auditor_asking_for_bank_accounts_is_forbidden_and_no_bank_is_asked(
    investigator: Investigator,
) -> None:
    client = investigator.gateway.register(
        "auditor", Role.AUDITOR, {scopes.INVESTIGATE, scopes.AUDIT_READ}, court_id=COURT_ID
    )
    token = await investigator.gateway.token(*client)

    body = await investigator.investigate(investigator.case(), BANK_QUERY, token=token)

    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
    assert investigator.asked() == set()


async def test_a_reloaded_agency_policy_denies_naming_itself(
    investigator: Investigator, tmp_path: Path
) -> None:
    directory = Path(shutil.copytree(DEFAULT_POLICY_DIR, tmp_path / "policies"))
    policy = CedarFieldPolicy(load_policy_dir(directory))
    investigator.gateway.services.field_policy = policy
    bank = directory / "bank.cedar"
    bank.write_text(bank.read_text(encoding="utf-8") + WITHHOLD_BALANCE, encoding="utf-8")
    assert policy.reload() is True

    body = await investigator.investigate(investigator.case(), BANK_QUERY)

    accounts = body["data"]["investigation"]["bankAccounts"]
    assert accounts
    assert all(a["balance"] is None and "*" not in a["accountNumber"] for a in accounts)
    denied = [e for e in body["errors"] if e["path"][-1] == "balance"]
    assert denied
    assert {e["extensions"]["code"] for e in denied} == {"FORBIDDEN"}
    assert all(e["extensions"]["policyIds"] == ["bank.balance-withheld"] for e in denied)
    for agency_id in ("bank-icbc", "bank-ccb", "bank-abc"):
        (request,) = investigator.recorders[agency_id].requests
        assert request.datasets["bank.accounts"].fields == frozenset({"account_number"})


async def test_a_dataset_with_no_permitted_field_is_not_requested(
    investigator: Investigator, tmp_path: Path
) -> None:
    directory = Path(shutil.copytree(DEFAULT_POLICY_DIR, tmp_path / "policies"))
    bank = directory / "bank.cedar"
    bank.write_text(bank.read_text(encoding="utf-8") + WITHHOLD_BALANCE, encoding="utf-8")
    investigator.gateway.services.field_policy = CedarFieldPolicy(load_policy_dir(directory))
    query = BANK_QUERY.replace("accountNumber balance", "balance")

    body = await investigator.investigate(investigator.case(), query)

    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert investigator.asked() == set()
