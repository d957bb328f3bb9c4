"""Adding an agency kind is one unit: a declaration named in configuration, its connector
and its policy file. A test-only kind (tests/pawnshop_kind.py) loaded through ``[kinds]``
is planned, decided, fetched and shaped end to end through HTTP, on SQLite and
PostgreSQL; a kind the gateway does not know is refused at start-up, clearly."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, insert

from connectors.catalog import KINDS, load_kind
from connectors.conformance import run_conformance
from connectors.demo import DemoWorld
from connectors.registry import build_connector
from connectors.sdk import AgencyIdentity, Subject
from connectors.sql import read_only_sqlite_url
from connectors.testing import RecordingConnector
from gateway.app import create_app
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.demo_cases import demo_case_entries
from gateway.errors import ConfigError
from gateway.policy import DEFAULT_POLICY_DIR
from gateway.services import build_services
from tests import pawnshop_kind
from tests.conftest import PUBLIC_URL, Gateway, prepare_deployment
from tests.investigation.conftest import COURT_ID, OFFICER_ID, subject_of

QUERY = """query($caseNumber: String!, $subject: SubjectInput!) {
  investigation(caseNumber: $caseNumber, subject: $subject) {
    pawnPledges { agency { id kind } ticketNumber item appraisedValue loanAmount pledgedOn status }
  } }"""


@pytest.fixture
def pawnshop() -> Iterator[None]:
    """Unregister the test kind afterwards: the registry is process-wide."""
    yield
    if "pawnshop" in KINDS:
        KINDS.unregister("pawnshop")


def _pawnshop_database(path: Path, holder_id: str) -> str:
    engine = create_engine(f"sqlite:///{path}")
    pawnshop_kind.metadata.create_all(engine)
    rows = [
        ("DD2024000117", holder_id, "黄金手镯 52克", "26000.00", "18000.00", "20240305", "A"),
        ("DD2024000342", holder_id, "劳力士手表", "61000.00", "40000.00", "20240611", "R"),
        ("DD2024000350", "410802199001010010", "笔记本电脑", "4000.00", "2500.00", "20240612", "A"),
    ]
    keys = ("ticket_no", "holder_id", "item", "appraised", "loan", "pledged_dt", "state")
    records = [dict(zip(keys, row, strict=True)) for row in rows]
    for record in records:
        record["appraised"], record["loan"] = Decimal(record["appraised"]), Decimal(record["loan"])
    with engine.begin() as connection:
        connection.execute(insert(pawnshop_kind.pledge), records)
    engine.dispose()
    return read_only_sqlite_url(path)


def _config(policies: Path, database_url: str, kinds: str | None = None) -> str:
    kinds = kinds if kinds is not None else '[kinds]\npawnshop = "tests.pawnshop_kind:KIND"\n'
    return (
        f"{kinds}"
        f'[policies]\ndir = "{policies}"\n'
        "[agencies.pawnshop-jinding]\n"
        'kind = "pawnshop"\n'
        'name = "焦作市金鼎典当行"\n'
        f'database_url = "{database_url}"\n'
    )


def _policies(tmp_path: Path) -> Path:
    directory = Path(shutil.copytree(DEFAULT_POLICY_DIR, tmp_path / "policies"))
    (directory / "pawnshop.cedar").write_text(pawnshop_kind.POLICY, encoding="utf-8")
    return directory


async def test_a_configured_kind_is_planned_decided_fetched_and_shaped(
    tmp_path: Path, database_url: str, world: DemoWorld, pawnshop: None
) -> None:
    debtor = world.debtors[0]
    agency_url = _pawnshop_database(tmp_path / "pawnshop.sqlite", debtor.subject.id_number)
    config = _config(_policies(tmp_path), agency_url)
    settings = prepare_deployment(tmp_path / "data", database_url, config)
    app = create_app(settings)
    services = app.state.services
    assert [a.identity.id for a in services.agencies] == ["pawnshop-jinding"]
    recorder = RecordingConnector(services.agencies.get("pawnshop-jinding").connector)
    services.agencies = services.agencies.replacing("pawnshop-jinding", recorder)
    entries = demo_case_entries(world, COURT_ID, OFFICER_ID)
    for entry in entries:
        services.cases.save(entry)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http,
    ):
        gateway = Gateway(settings, services, app, http)
        client = gateway.register(
            "officer", Role.OFFICER, {scopes.INVESTIGATE}, court_id=COURT_ID, officer_id=OFFICER_ID
        )
        token = await gateway.token(*client)
        variables = {"caseNumber": entries[0].case_number, "subject": subject_of(entries[0])}
        response = await gateway.graphql(token, QUERY, variables)

    body = response.json()
    agency = {"id": "pawnshop-jinding", "kind": "pawnshop"}
    assert body["data"]["investigation"]["pawnPledges"] == [
        {
            "agency": agency,
            "ticketNumber": "********0117",
            "item": "黄金手镯 52克",
            "appraisedValue": None,
            "loanAmount": "18000.00",
            "pledgedOn": "2024-03-05",
            "status": "active",
        },
        {
            "agency": agency,
            "ticketNumber": "********0342",
            "item": "劳力士手表",
            "appraisedValue": None,
            "loanAmount": "40000.00",
            "pledgedOn": "2024-06-11",
            "status": "redeemed",
        },
    ]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert {tuple(e["extensions"]["policyIds"]) for e in body["errors"]} == {
        ("pawnshop.appraisal-withheld",)
    }
    # The withheld field was never asked of the agency.
    (request,) = recorder.requests
    assert request.datasets["pawnshop.pledges"].fields == frozenset(
        {"ticket_number", "item", "loan_amount", "pledged_on", "status"}
    )


async def test_the_configured_kinds_connector_passes_the_conformance_suite(
    tmp_path: Path, world: DemoWorld, pawnshop: None
) -> None:
    load_kind("tests.pawnshop_kind:KIND")
    debtor = world.debtors[0]
    identity = AgencyIdentity("pawnshop-jinding", "pawnshop", "焦作市金鼎典当行")
    url = _pawnshop_database(tmp_path / "pawnshop.sqlite", debtor.subject.id_number)
    connector = build_connector("pawnshop", identity, url)
    broken = build_connector("pawnshop", identity, read_only_sqlite_url(tmp_path / "gone.sqlite"))
    stranger = Subject.resident(world.debtors[1].subject.id_number)
    try:
        await run_conformance(connector, debtor.subject, stranger, broken=broken)
    finally:
        await connector.aclose()  # type: ignore[attr-defined]
        await broken.aclose()  # type: ignore[attr-defined]


def _refused(tmp_path: Path, sqlite_url: str, config: str) -> str:
    settings = prepare_deployment(tmp_path / "data", sqlite_url, config)
    with pytest.raises(ConfigError) as caught:
        build_services(settings)
    return str(caught.value)


def test_an_agency_of_an_undeclared_kind_is_refused_naming_the_known_kinds(
    tmp_path: Path, sqlite_url: str, pawnshop: None
) -> None:
    message = _refused(tmp_path, sqlite_url, _config(DEFAULT_POLICY_DIR, "sqlite://", kinds=""))

    assert "agencies.pawnshop-jinding.kind 'pawnshop' is not a known agency kind" in message
    assert "bank, civil_affairs, market_regulation" in message
    assert "[kinds]" in message


@pytest.mark.parametrize(
    ("declared", "reason"),
    [
        ('pawnshop = "tests.no_such_module:KIND"', "kinds.pawnshop: cannot import"),
        ('pawnshop = "tests.pawnshop_kind:PLEDGES"', "is not an AgencyKindSpec"),
        ('pawnshop = "tests.pawnshop_kind"', "must be 'package.module:NAME'"),
        ('pawnshops = "tests.pawnshop_kind:KIND"', "declares kind 'pawnshop'"),
        ("pawnshop = 3", "kinds.pawnshop must be a string"),
    ],
)
def test_a_broken_kind_declaration_stops_the_start_with_a_clear_message(
    tmp_path: Path, sqlite_url: str, pawnshop: None, declared: str, reason: str
) -> None:
    config = _config(_policies(tmp_path), "sqlite://", kinds=f"[kinds]\n{declared}\n")

    assert reason in _refused(tmp_path, sqlite_url, config)


def test_a_policy_file_of_an_unregistered_kind_is_refused(
    tmp_path: Path, sqlite_url: str, pawnshop: None
) -> None:
    config = _config(_policies(tmp_path), "sqlite://", kinds="")

    message = _refused(tmp_path, sqlite_url, config)

    assert "pawnshop.cedar" in message
    assert "unknown policy file" in message
