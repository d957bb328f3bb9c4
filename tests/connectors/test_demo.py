"""The deterministic demo world: valid identifiers, consistent registers, rich debtors."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from connectors.conformance import conformance_request
from connectors.demo import DEMO_AGENCIES, DemoWorld, seed_demo_agencies
from connectors.sdk import DATASETS, DatasetQuery
from tests.connectors.conftest import REFERENCE_DATE, ConnectorFactory

KINDS = {
    "bank",
    "tax",
    "civil_affairs",
    "public_security",
    "real_estate",
    "provident_fund",
    "market_regulation",
}


def _dump(world: DemoWorld) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every agency table, in a stable order."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    for agency in world.agencies:
        with sqlite3.connect(agency.path) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                rows[f"{agency.identity.id}.{table}"] = sorted(
                    db.execute(f"SELECT * FROM {table}")  # noqa: S608 - names from sqlite_master
                )
        db.close()
    return rows


def test_same_seed_gives_the_same_world_and_rows(tmp_path: Path, demo_world: DemoWorld) -> None:
    again = seed_demo_agencies(tmp_path, today=REFERENCE_DATE)
    assert again.people == demo_world.people
    assert again.debtors == demo_world.debtors
    assert _dump(again) == _dump(demo_world)


def test_seeding_twice_rewrites_instead_of_adding(tmp_path: Path) -> None:
    first = _dump(seed_demo_agencies(tmp_path, today=REFERENCE_DATE))
    second = _dump(seed_demo_agencies(tmp_path, today=REFERENCE_DATE))
    assert second == first


def test_another_seed_gives_other_people(tmp_path: Path, demo_world: DemoWorld) -> None:
    other = seed_demo_agencies(tmp_path, seed=7, today=REFERENCE_DATE)
    assert other.people != demo_world.people
    assert other.debtors != demo_world.debtors


def test_agencies_are_the_nine_demo_agencies_with_their_files(demo_world: DemoWorld) -> None:
    assert [a.identity for a in demo_world.agencies] == list(DEMO_AGENCIES)
    assert [a.identity.id for a in demo_world.agencies] == [
        "bank-icbc",
        "bank-ccb",
        "bank-abc",
        "tax-jiaozuo",
        "civil-affairs-jiaozuo",
        "public-security-jiaozuo",
        "real-estate-jiaozuo",
        "provident-fund-jiaozuo",
        "market-regulation-jiaozuo",
    ]
    for agency in demo_world.agencies:
        assert agency.path.name == f"{agency.identity.id}.sqlite"
        assert agency.path.parent.name == "agencies"
        assert agency.path.is_file()


def test_people_have_valid_ids_matching_their_birth_date_and_sex(demo_world: DemoWorld) -> None:
    assert len(demo_world.people) >= 200
    assert len({p.id_number for p in demo_world.people}) == len(demo_world.people)
    for person in demo_world.people:
        assert ric.validate(person.id_number) == person.id_number
        assert ric.get_birth_date(person.id_number) == person.birth_date
        assert int(person.id_number[16]) % 2 == (1 if person.sex == "男" else 0)
        assert person.id_number[:4] == "4108"
        assert 2 <= len(person.name) <= 3
        assert person.address.startswith("河南省焦作市")


def test_organisations_have_valid_unified_social_credit_codes(demo_world: DemoWorld) -> None:
    assert demo_world.organisations
    for firm in demo_world.organisations:
        assert uscc.validate(firm.uscc) == firm.uscc
        assert firm.name.endswith("有限公司")


def test_households_share_an_address_and_a_surname_line(demo_world: DemoWorld) -> None:
    for home in demo_world.households:
        assert {person.address for person, _ in home.members} == {home.address}
        assert home.members[0][1] == "02"
        for child, relation in home.members[2:]:
            assert relation in ("20", "30")
            assert child.birth_date > max(p.birth_date for p, _ in home.members[:2])


def test_courts_and_case_numbers(demo_world: DemoWorld) -> None:
    courts = {court.id: court for court in demo_world.courts}
    assert {"court-jiaozuo-zhongyuan", "court-wuzhi", "court-jiefang"} == set(courts)
    assert len({debtor.court_id for debtor in demo_world.debtors}) == 3
    for debtor in demo_world.debtors:
        court = courts[debtor.court_id]
        assert debtor.case_number.startswith(f"({REFERENCE_DATE.year}){court.case_code}执")
        assert debtor.case_number.endswith("号")


async def test_every_debtor_has_records_wherever_the_world_says(
    demo_world: DemoWorld, connector_for: ConnectorFactory
) -> None:
    persons = [d for d in demo_world.debtors if d.subject.id_type == "resident_id"]
    assert len(persons) >= 5
    assert any(d.subject.id_type == "uscc" for d in demo_world.debtors)
    assert any("civil_affairs.allowances" in d.datasets for d in persons)
    for debtor in demo_world.debtors:
        found: set[str] = set()
        for agency_id in debtor.agencies:
            connector = connector_for(agency_id)
            queries = {
                name: DatasetQuery(DATASETS[name].field_names) for name in connector.datasets
            }
            result = await connector.fetch(conformance_request(debtor.subject, queries))
            found |= {name for name, records in result.records.items() if records}
            assert any(result.records.values()), f"{debtor.name}: nothing at {agency_id}"
        assert found == debtor.datasets, debtor.name
    for debtor in persons:
        kinds = {a.identity.kind for a in demo_world.agencies if a.identity.id in debtor.agencies}
        assert kinds == KINDS, debtor.name


@pytest.mark.parametrize("debtor_index", range(5))
async def test_debtors_stayed_in_hotels_before_and_within_the_last_two_years(
    debtor_index: int, demo_world: DemoWorld, connector_for: ConnectorFactory
) -> None:
    debtor = demo_world.debtors[debtor_index]
    query = {"public_security.lodging": DatasetQuery(frozenset({"check_in", "check_out"}))}
    result = await connector_for("public-security-jiaozuo").fetch(
        conformance_request(debtor.subject, query)
    )
    stays = result.records["public_security.lodging"]
    check_ins = [datetime.datetime.fromisoformat(str(stay["check_in"])) for stay in stays]
    two_years_ago = REFERENCE_DATE - datetime.timedelta(days=730)
    four_years_ago = REFERENCE_DATE - datetime.timedelta(days=4 * 366)
    assert any(day.date() < two_years_ago for day in check_ins)
    assert any(day.date() >= two_years_ago for day in check_ins)
    assert all(four_years_ago <= day.date() < REFERENCE_DATE for day in check_ins)
    for stay in stays:
        assert str(stay["check_out"]) > str(stay["check_in"])


async def test_refunds_are_paid_into_the_taxpayers_own_accounts(
    demo_world: DemoWorld, connector_for: ConnectorFactory
) -> None:
    debtor = demo_world.debtors[0]
    own: set[str] = set()
    for agency_id in debtor.agencies:
        if agency_id.startswith("bank-"):
            result = await connector_for(agency_id).fetch(
                conformance_request(
                    debtor.subject, {"bank.accounts": DatasetQuery(frozenset({"account_number"}))}
                )
            )
            own |= {str(r["account_number"]) for r in result.records["bank.accounts"]}
    refunds = await connector_for("tax-jiaozuo").fetch(
        conformance_request(
            debtor.subject, {"tax.refunds": DatasetQuery(frozenset({"refund_account"}))}
        )
    )
    accounts = {str(r["refund_account"]) for r in refunds.records["tax.refunds"]}
    assert accounts
    assert accounts <= own
