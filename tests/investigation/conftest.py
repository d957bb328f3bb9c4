"""Fixtures for investigations through HTTP: the demo agencies (seeded once per
session into a temporary directory), the demo cases in the gateway's database,
and an officer's token; every connector is wrapped in a RecordingConnector so
tests can tell whether (and what) an agency was asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from connectors.demo import DemoWorld, seed_demo_agencies
from connectors.sdk import Connector
from connectors.sql import SqlConnector
from connectors.testing import RecordingConnector
from gateway.agencies import AgencyRegistry, RegisteredAgency
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.case_store import CaseEntry
from gateway.demo_cases import INVESTIGATION_QUERY, demo_case_entries
from tests.conftest import Gateway

COURT_ID = "court-wuzhi"
OFFICER_ID = "officer-wz-001"


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> DemoWorld:
    """The six demo agencies around today's date (connectors only read them)."""
    return seed_demo_agencies(tmp_path_factory.mktemp("investigation"))


def subject_of(entry: CaseEntry, index: int = 0) -> dict[str, Any]:
    """The ``subject`` variable naming a respondent of a case."""
    respondent = entry.respondents[index]
    key = "residentId" if respondent.id_type == "resident_id" else "creditCode"
    return {key: respondent.id_number, "name": respondent.name}


@dataclass
class Investigator:
    """A gateway with demo agencies and cases, and an assigned officer's token."""

    gateway: Gateway
    world: DemoWorld
    cases: list[CaseEntry]
    token: str
    recorders: dict[str, RecordingConnector] = field(default_factory=dict)

    def case(self, *, status: str = "open", court_id: str = COURT_ID, index: int = 0) -> CaseEntry:
        """The ``index``-th demo case of a court with this status."""
        found = [c for c in self.cases if c.status == status and c.court.id == court_id]
        return found[index]

    async def post(
        self,
        case_number: str,
        subject: dict[str, Any],
        query: str = INVESTIGATION_QUERY,
        token: str | None = None,
    ) -> httpx.Response:
        """POST an investigation."""
        variables: dict[str, object] = {"caseNumber": case_number, "subject": subject}
        return await self.gateway.graphql(token or self.token, query, variables)

    async def investigate(
        self, entry: CaseEntry, query: str = INVESTIGATION_QUERY, **kwargs: Any
    ) -> dict[str, Any]:
        """Investigate the case's first respondent; the JSON body of a 200 answer."""
        response = await self.post(entry.case_number, subject_of(entry), query, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def replace(
        self, agency_id: str, connector: Connector | None = None, deadline_s: float | None = None
    ) -> None:
        """Swap an agency's connector (e.g. for a slow or failing double) or deadline."""
        services = self.gateway.services
        services.agencies = services.agencies.replacing(agency_id, connector, deadline_s)

    def asked(self) -> set[str]:
        """The ids of the agencies that received a request."""
        return {agency_id for agency_id, r in self.recorders.items() if r.called}


@pytest.fixture
async def investigator(gateway: Gateway, world: DemoWorld) -> AsyncIterator[Investigator]:
    """The gateway fixture (SQLite and PostgreSQL) with demo agencies and cases."""
    connectors: list[SqlConnector] = [agency.build_connector() for agency in world.agencies]
    recorders = {c.identity.id: RecordingConnector(c) for c in connectors}
    gateway.services.agencies = AgencyRegistry(RegisteredAgency(r) for r in recorders.values())
    entries = demo_case_entries(world, COURT_ID, OFFICER_ID)
    store = gateway.services.cases
    for entry in entries:
        store.save(entry)
    client = gateway.register(
        "officer",
        Role.OFFICER,
        {scopes.INVESTIGATE, scopes.CASES_READ},
        court_id=COURT_ID,
        officer_id=OFFICER_ID,
    )
    token = await gateway.token(*client)
    try:
        yield Investigator(gateway, world, entries, token, recorders)
    finally:
        for connector in connectors:
            connector.close()
