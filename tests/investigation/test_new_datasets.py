"""The real estate, provident fund, market regulation, vehicle and passport datasets
through HTTP (SQLite and PostgreSQL): every one comes back with the agency's values
as policy shapes them, masked fields masked, and a dataset no field of which is
permitted never reaches its agency."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from connectors.catalog import DATASETS
from connectors.conformance import conformance_request
from connectors.sdk import DatasetQuery
from gateway.masks import apply_mask
from gateway.plan import view_of
from gateway.policy import DEFAULT_POLICY_DIR, CedarFieldPolicy
from gateway.policy_loader import load_policy_dir
from tests.investigation.conftest import Investigator

NEW_DATASETS = {
    "real_estate.rights": "real-estate-jiaozuo",
    "real_estate.mortgages": "real-estate-jiaozuo",
    "real_estate.seals": "real-estate-jiaozuo",
    "provident_fund.accounts": "provident-fund-jiaozuo",
    "market_regulation.equity": "market-regulation-jiaozuo",
    "market_regulation.posts": "market-regulation-jiaozuo",
    "public_security.vehicles": "public-security-jiaozuo",
    "public_security.passports": "public-security-jiaozuo",
}
MASKED = {
    "provident_fund.accounts": {"account_number"},
    "public_security.vehicles": {"vin"},
    "public_security.passports": {"document_number"},
}


def _query(dataset: str) -> str:
    """An investigation asking every field of one dataset."""
    view = view_of(dataset)
    return (
        "query($caseNumber: String!, $subject: SubjectInput!) { "
        "investigation(caseNumber: $caseNumber, subject: $subject) { "
        f"{view.field} {{ agency {{ id }} {' '.join(sorted(view.graphql_paths))} }} }} }}"
    )


async def _agency_records(investigator: Investigator, dataset: str) -> list[dict[str, Any]]:
    """What the agency itself holds about the first case's respondent, every field."""
    agency = investigator.world.agency(NEW_DATASETS[dataset])
    connector = agency.build_connector()
    try:
        debtor = investigator.world.debtors[0]
        query = {dataset: DatasetQuery(DATASETS[dataset].field_names)}
        result = await connector.fetch(conformance_request(debtor.subject, query))
    finally:
        await connector.aclose()  # type: ignore[attr-defined]
    return result.records[dataset]


def _as_shown(dataset: str, record: dict[str, Any]) -> dict[str, Any]:
    """A record as the officer sees it under the shipped policies, GraphQL-named."""
    spec = DATASETS[dataset]
    paths = {name: path for path, name in view_of(dataset).graphql_paths.items()}
    shown = {}
    for name, value in record.items():
        mask = spec.field(name).mask
        shown[paths[name]] = (
            apply_mask(mask, value) if name in MASKED.get(dataset, ()) and mask else value
        )
    return shown


@pytest.mark.parametrize("dataset", sorted(NEW_DATASETS))
async def test_each_new_dataset_returns_the_agency_records_as_policy_shapes_them(
    investigator: Investigator, dataset: str
) -> None:
    expected = await _agency_records(investigator, dataset)
    assert expected, f"the first demo debtor has no {dataset}"

    body = await investigator.investigate(investigator.case(), _query(dataset))

    assert "errors" not in body, body.get("errors")
    found = body["data"]["investigation"][view_of(dataset).field]
    assert [r.pop("agency") for r in found] == [{"id": NEW_DATASETS[dataset]}] * len(found)
    assert found == [_as_shown(dataset, record) for record in expected]
    for name in MASKED.get(dataset, ()):
        assert all(str(r[_camel(name)]).startswith("*") for r in found)
    (request,) = investigator.recorders[NEW_DATASETS[dataset]].requests
    assert set(request.datasets) == {dataset}
    assert request.datasets[dataset].fields == DATASETS[dataset].field_names


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def test_the_demo_query_shows_property_fund_equity_vehicles_and_passports(
    investigator: Investigator,
) -> None:
    body = await investigator.investigate(investigator.case())

    found = body["data"]["investigation"]
    rights = found["realEstateRights"]
    assert rights
    assert all(r["certificateNumber"].startswith("豫(") for r in rights)
    assert {r["status"] for r in rights} & {"mortgaged", "sealed"}
    assert found["realEstateSeals"][0]["sealingCourt"].endswith("人民法院")
    assert found["realEstateMortgages"][0]["securedAmount"].endswith(".00")
    (fund, *_) = found["providentFundAccounts"]
    assert fund["accountNumber"].startswith("****")
    assert fund["balance"]
    assert found["equityHoldings"]
    assert found["companyPosts"]
    assert found["vehicles"][0]["plate"].startswith("豫H")
    assert found["vehicles"][0]["vin"].startswith("*************")
    assert found["passports"][0]["documentNumber"].startswith("*****")
    assert found["passports"][0]["status"] == "valid"


def _withhold(tmp_path: Path, kind: str, rule: str) -> CedarFieldPolicy:
    """The shipped policies with one more statement in ``kind``'s file."""
    directory = Path(shutil.copytree(DEFAULT_POLICY_DIR, tmp_path / "policies"))
    path = directory / f"{kind}.cedar"
    path.write_text(path.read_text(encoding="utf-8") + rule, encoding="utf-8")
    return CedarFieldPolicy(load_policy_dir(directory))


@pytest.mark.parametrize("dataset", sorted(NEW_DATASETS))
async def test_a_withheld_new_dataset_is_forbidden_and_never_requested(
    investigator: Investigator, tmp_path: Path, dataset: str
) -> None:
    kind = DATASETS[dataset].agency_kind
    policy_id = f"{kind}.withheld-for-test"
    rule = (
        f'\n@id("{policy_id}")\nforbid (principal, action, '
        f'resource in Credgate::Dataset::"{dataset}");\n'
    )
    investigator.gateway.services.field_policy = _withhold(tmp_path, kind, rule)

    body = await investigator.investigate(investigator.case(), _query(dataset))

    assert body["data"]["investigation"] == {view_of(dataset).field: None}
    (error,) = body["errors"]
    assert error["path"] == ["investigation", view_of(dataset).field]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert policy_id in error["extensions"]["policyIds"]
    assert investigator.asked() == set()


async def test_only_the_permitted_datasets_of_an_agency_are_requested(
    investigator: Investigator, tmp_path: Path
) -> None:
    rule = (
        '\n@id("real_estate.no-seals")\nforbid (principal, action, '
        'resource in Credgate::Dataset::"real_estate.seals");\n'
    )
    investigator.gateway.services.field_policy = _withhold(tmp_path, "real_estate", rule)
    query = (
        "query($caseNumber: String!, $subject: SubjectInput!) { "
        "investigation(caseNumber: $caseNumber, subject: $subject) { "
        "realEstateRights { certificateNumber } realEstateSeals { sealingCourt } } }"
    )

    body = await investigator.investigate(investigator.case(), query)

    assert body["data"]["investigation"]["realEstateRights"]
    assert body["data"]["investigation"]["realEstateSeals"] is None
    assert [e["path"] for e in body["errors"]] == [["investigation", "realEstateSeals"]]
    (request,) = investigator.recorders["real-estate-jiaozuo"].requests
    assert set(request.datasets) == {"real_estate.rights"}


async def test_a_passport_number_is_never_shown_in_full_whatever_is_permitted(
    investigator: Investigator, tmp_path: Path
) -> None:
    rule = """
@id("public_security.test-everything-read")
permit (
  principal is Credgate::Officer,
  action == Credgate::Action::"read",
  resource in Credgate::Dataset::"public_security.passports"
);
"""
    investigator.gateway.services.field_policy = _withhold(tmp_path, "public_security", rule)
    query = _query("public_security.passports")

    body = await investigator.investigate(investigator.case(), query)

    (passport, *_) = body["data"]["investigation"]["passports"]
    assert passport["documentNumber"].startswith("*")
    assert passport["documentType"] == "passport"
