"""The SQL adapters: driver errors become SDK errors; agency layouts map correctly."""

from __future__ import annotations

import asyncio
import datetime
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from connectors.bank import BankConnector
from connectors.catalog import KINDS, UnknownAgencyKind
from connectors.conformance import conformance_request
from connectors.demo import DEMO_AGENCIES, DemoWorld
from connectors.registry import build_connector
from connectors.sdk import (
    DATASETS,
    AgencyIdentity,
    AgencyUnavailable,
    BadAgencyResponse,
    DatasetQuery,
    FetchResult,
    Record,
    Subject,
)
from connectors.sql import SqlConnector
from tests.connectors.conftest import ConnectorFactory

ONE_PER_KIND: dict[str, AgencyIdentity] = {identity.kind: identity for identity in DEMO_AGENCIES}


async def _fetch_all(connector: SqlConnector, subject: Subject) -> FetchResult:
    queries = {name: DatasetQuery(DATASETS[name].field_names) for name in connector.datasets}
    return await connector.fetch(conformance_request(subject, queries))


def _read_only(path: Path) -> str:
    return f"sqlite:///file:{path}?mode=ro&uri=true"


@pytest.mark.parametrize("problem", ["missing file", "no tables", "not a database"])
@pytest.mark.parametrize("kind", sorted(ONE_PER_KIND))
async def test_driver_errors_become_agency_unavailable(
    kind: str, problem: str, tmp_path: Path, demo_world: DemoWorld
) -> None:
    path = tmp_path / "agency.sqlite"
    if problem == "no tables":
        sqlite3.connect(path).close()
    elif problem == "not a database":
        path.write_bytes(b"this is not a SQLite file " * 100)
    identity = ONE_PER_KIND[kind]
    connector = build_connector(kind, identity, _read_only(path))
    subject = demo_world.debtors[0].subject
    try:
        with pytest.raises(AgencyUnavailable) as caught:
            await _fetch_all(connector, subject)
    finally:
        connector.close()
    assert caught.value.agency_id == identity.id
    # Driver messages quote SQL parameters; the ID number must not reach the message.
    assert subject.id_number not in str(caught.value)
    assert not path.exists() or problem != "missing file", "a read-only connector created it"


async def test_an_unknown_status_code_is_a_bad_agency_response(
    tmp_path: Path, demo_world: DemoWorld
) -> None:
    source = demo_world.agency("bank-icbc").path
    copy = tmp_path / "icbc.sqlite"
    shutil.copy(source, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE t_acct SET acct_stat_cd = 'Z'")
    db.close()
    connector = build_connector("bank", demo_world.agency("bank-icbc").identity, _read_only(copy))
    try:
        with pytest.raises(BadAgencyResponse, match="does not match"):
            await _fetch_all(connector, demo_world.debtors[0].subject)
    finally:
        connector.close()


async def test_lodging_window_is_inclusive_on_check_in_dates(
    demo_world: DemoWorld, connector_for: ConnectorFactory
) -> None:
    connector = connector_for("public-security-jiaozuo")
    subject = demo_world.debtors[0].subject
    everything = (await _fetch_all(connector, subject)).records["public_security.lodging"]
    first_day = datetime.date.fromisoformat(str(everything[0]["check_in"])[:10])
    window = DatasetQuery(frozenset({"check_in"}), since=first_day, until=first_day)
    result = await connector.fetch(
        conformance_request(subject, {"public_security.lodging": window})
    )
    assert result.records["public_security.lodging"] == [{"check_in": everything[0]["check_in"]}]


async def test_household_lists_every_member_with_relations(
    demo_world: DemoWorld, connector_for: ConnectorFactory
) -> None:
    debtor = demo_world.debtors[0]
    home = next(h for h in demo_world.households if h.head.id_number == debtor.subject.id_number)
    result = await _fetch_all(connector_for("public-security-jiaozuo"), debtor.subject)
    [household] = result.records["public_security.household"]
    assert household["household_number"] == home.number
    assert household["head_name"] == debtor.name
    members = household["members"]
    assert isinstance(members, list)
    assert {m["id_number"] for m in members if isinstance(m, dict)} == {
        person.id_number for person, _ in home.members
    }
    assert isinstance(members[0], dict)
    assert members[0]["relation"] == "户主"


async def test_marriage_names_the_other_party_from_either_side(
    demo_world: DemoWorld, connector_for: ConnectorFactory
) -> None:
    debtor = demo_world.debtors[0]
    home = next(h for h in demo_world.households if h.head.id_number == debtor.subject.id_number)
    spouse = home.members[1][0]
    connector = connector_for("civil-affairs-jiaozuo")
    query = {"civil_affairs.marriages": DatasetQuery(frozenset({"spouse_id_number", "status"}))}
    mine = await connector.fetch(conformance_request(debtor.subject, query))
    theirs = await connector.fetch(conformance_request(Subject.resident(spouse.id_number), query))
    assert mine.records["civil_affairs.marriages"] == [
        {"spouse_id_number": spouse.id_number, "status": "married"}
    ]
    assert theirs.records["civil_affairs.marriages"] == [
        {"spouse_id_number": debtor.subject.id_number, "status": "married"}
    ]


def test_registry_binds_every_kind_and_checks_the_identity() -> None:
    assert KINDS.names() >= {
        "bank",
        "tax",
        "civil_affairs",
        "public_security",
        "real_estate",
        "provident_fund",
        "market_regulation",
    }
    for spec in KINDS.specs():
        assert issubclass(spec.connector_class(), SqlConnector), spec.name
    identity = AgencyIdentity("tax-jiaozuo", "tax", "国家税务总局焦作市税务局")
    with pytest.raises(ValueError, match="not bank"):
        build_connector("bank", identity, "sqlite://")
    with pytest.raises(ValueError, match="not real_estate"):
        build_connector("real_estate", identity, "sqlite://")
    with pytest.raises(UnknownAgencyKind, match="unknown agency kind 'pawnshop'"):
        build_connector("pawnshop", identity, "sqlite://")
    with pytest.raises(UnknownAgencyKind, match="known: bank, civil_affairs"):
        AgencyIdentity("pawn-1", "pawnshop", "当铺")


class _SlowBank(BankConnector):
    """Runs a query that takes minutes unless the driver interrupts it."""

    def __init__(self, identity: AgencyIdentity, database_url: str) -> None:
        super().__init__(identity, database_url)
        self.started = threading.Event()
        self.finished = threading.Event()

    def read(
        self, connection: Connection, dataset: str, subject: Subject, query: DatasetQuery
    ) -> list[Record]:
        self.started.set()
        try:
            connection.execute(
                text(
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
                    " WHERE x < 10000000000) SELECT count(*) FROM c"
                )
            )
        finally:
            self.finished.set()
        return []


async def test_cancelling_a_fetch_interrupts_the_running_statement(
    demo_world: DemoWorld,
) -> None:
    agency = demo_world.agency("bank-icbc")
    slow = _SlowBank(agency.identity, agency.database_url)
    loop = asyncio.get_running_loop()
    try:
        task = asyncio.create_task(_fetch_all(slow, demo_world.debtors[0].subject))
        assert await loop.run_in_executor(None, slow.started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The worker thread stops too, instead of running the query to its end.
        assert await loop.run_in_executor(None, slow.finished.wait, 5)
    finally:
        slow.close()
