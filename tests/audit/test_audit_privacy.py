"""No demo resident ID number in plain text: not in the database, not in the logs.

The demo world (agencies, cases, the dishonest list) is seeded into a fresh data
directory on SQLite and PostgreSQL; the demo officer then investigates several
respondents through HTTP, once with the ID spelled out in the query document
and once with an invalid query naming it, and a bank checks a batch against the
list. Afterwards every row of every table of the gateway's database (and, on
SQLite, the raw database file and its WAL) and everything the gateway logged is
searched for every resident ID number of the demo population, in either case
of the check character.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog

from connectors.demo import DEFAULT_SEED
from connectors.demo_people import generate_population, seeded_random
from gateway.db import create_db_engine
from gateway.demo import DEMO_SEEDERS, demo_clients
from gateway.demo_cases import INVESTIGATION_QUERY
from gateway.logging import configure_logging
from tests.audit.audit_support import audit_log, dump_database, raw_sqlite_bytes
from tests.conftest import Gateway, prepare_deployment, serving

_INVESTIGATED = 3


@dataclass
class DemoGateway:
    """A gateway on a seeded demo data directory, and what the seeders reported."""

    gateway: Gateway
    document: dict[str, Any]

    async def token(self, name: str) -> str:
        """A token of the demo client ``name`` (registered like ``credgate demo`` does)."""
        spec = next(c for c in demo_clients([name]) if c.name == name)
        registration = spec.registration
        client = self.gateway.register(
            name,
            registration.role,
            set(registration.scopes),
            court_id=registration.court_id,
            agency_id=registration.agency_id,
            officer_id=registration.officer_id,
        )
        return await self.gateway.token(*client)


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The gateway's real log pipeline (JSON lines on standard error), at debug level."""
    configure_logging("debug")
    yield
    structlog.reset_defaults()


@pytest.fixture
async def demo_gateway(
    tmp_path: Path, database_url: str, json_logs: None, capfd: pytest.CaptureFixture[str]
) -> AsyncIterator[DemoGateway]:
    """The demo world seeded into a new data directory, and the gateway serving it.

    It asks for ``capfd`` first so that what seeding and start-up log is captured too.
    """
    settings = prepare_deployment(tmp_path / "data", database_url)
    engine = create_db_engine(settings.database_url)
    document: dict[str, Any] = {}
    try:
        for seeder in DEMO_SEEDERS:
            document.update(seeder(settings, engine))
    finally:
        engine.dispose()
    async with serving(settings) as gateway:
        yield DemoGateway(gateway, document)


def _demo_resident_ids() -> list[str]:
    population = generate_population(seeded_random(DEFAULT_SEED))
    return [person.id_number for person in population.people]


def _open_cases_with_people(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        case
        for case in document["cases"]
        if case["status"] == "open"
        and case["court"] == "court-wuzhi"
        and "residentId" in case["respondents"][0]
    ]


async def _investigate(demo: DemoGateway, token: str) -> list[str]:
    """Investigations of several respondents; the IDs asked about."""
    gateway, asked = demo.gateway, []
    for case in _open_cases_with_people(demo.document)[:_INVESTIGATED]:
        subject = case["respondents"][0]
        variables = {"caseNumber": case["caseNumber"], "subject": subject}
        response = await gateway.graphql(token, INVESTIGATION_QUERY, variables)
        assert response.status_code == 200, response.text
        found = response.json()["data"]["investigation"]
        assert found["subject"]["residentId"] == subject["residentId"]
        assert found["bankAccounts"]
        asked.append(subject["residentId"])
    # The ID spelled out in the document, and an invalid document naming it.
    case = _open_cases_with_people(demo.document)[0]
    literal = (
        f'{{ investigation(caseNumber: "{case["caseNumber"]}", '
        f'subject: {{residentId: "{asked[0]}"}}) {{ caseNumber }} }}'
    )
    assert (await gateway.graphql(token, literal)).status_code == 200
    broken = literal.replace("caseNumber }", "caseNumber nosuch }")
    assert (await gateway.graphql(token, broken)).status_code == 400
    return asked


async def test_database_dump_and_logs_hold_no_demo_resident_id(
    demo_gateway: DemoGateway, capfd: pytest.CaptureFixture[str]
) -> None:
    gateway = demo_gateway.gateway
    asked = await _investigate(demo_gateway, await demo_gateway.token("officer"))
    example = demo_gateway.document["credit_list"]["status_example"]
    bank = await demo_gateway.token("bank-icbc")
    status = await gateway.graphql(bank, example["query"], example["variables"])
    assert status.json()["data"]["dishonestStatus"][0]["listed"] is True
    assert audit_log(gateway).integrate_now()
    # The auditor finds the investigations by the ID: it is there, as a blind index.
    auditor = await demo_gateway.token("auditor")
    search = """query($id: String) { auditEvents(filter: {subjectId: $id, kind: "outcome"}) {
      edges { node { subjectIds caseNumber } } } }"""
    found = (await gateway.graphql(auditor, search, {"id": asked[1]})).json()
    assert found["data"]["auditEvents"]["edges"][0]["node"]["subjectIds"] == [asked[1]]

    dump = dump_database(gateway.services.engine)
    raw = raw_sqlite_bytes(str(gateway.services.engine.url))
    logs = capfd.readouterr()
    assert audit_log(gateway).cipher.blind_index(asked[0]) in dump
    # The dump does cover the respondents' rows (their names are not secret).
    assert _open_cases_with_people(demo_gateway.document)[0]["respondents"][0]["name"] in dump
    assert '"gateway_started"' in logs.out + logs.err  # The log was captured from the start.
    ids = _demo_resident_ids()
    assert set(asked) <= set(ids)
    for resident_id in ids:
        for variant in {resident_id, resident_id.lower()}:
            assert variant not in dump, "an ID in the database"
            assert variant.encode() not in raw, "an ID in the SQLite file"
            assert variant not in logs.out, "an ID in the logs"
            assert variant not in logs.err, "an ID in the logs"
