"""Fixtures for control measures through HTTP: the demo agencies, each of a kind that takes
measures with its ledger (each test with its own ledgers), the demo cases with a claim on
the first, and tokens of its presiding officer, a colleague assigned to it and an auditor."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.control_ledger import ControlledConnector
from connectors.demo import DemoWorld, seed_demo_agencies
from connectors.registry import build_controlled, takes_measures
from connectors.sdk import Connector
from gateway.agencies import AgencyRegistry, RegisteredAgency
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.case_store import CaseEntry
from gateway.demo_cases import demo_case_entries
from gateway.measures.store import CaseEnforcement
from tests.conftest import Gateway

COURT_ID = "court-wuzhi"
OFFICER_ID = "officer-wz-001"
COLLEAGUE_ID = "officer-wz-002"
CLAIM_CENTS = 5_000_000  # 50,000.00 yuan outstanding on the first case
TODAY = datetime.date.today()
RULING = {
    "number": "(2025)豫0823执1234号之一",
    "date": (TODAY - datetime.timedelta(days=2)).isoformat(),
}
NOTICE = {
    "number": "(2025)豫0823执1234号之二",
    "date": (TODAY - datetime.timedelta(days=1)).isoformat(),
}

INVESTIGATE = """query($caseNumber: String!, $subject: SubjectInput!) {
  investigation(caseNumber: $caseNumber, subject: $subject) {
    bankAccounts { agency { id } accountNumber balance status } } }"""
MEASURE_FIELDS = """id kind status caseNumber agencyId dataset assetKey requestedAmount amount
  effectiveUntil agencyReference reason actsOn ruling { number date } notice { number date }"""
FREEZE = f"mutation($input: PlaceMeasureInput!) {{ freeze(input: $input) {{ {MEASURE_FIELDS} }} }}"
ACT = "mutation($input: MeasureActionInput!) {{ {name}(input: $input) {{ {fields} }} }}"
MEASURE = f"query($id: String!) {{ measure(id: $id) {{ {MEASURE_FIELDS} }} }}"
MY_MEASURES = f"query($case: String) {{ myMeasures(caseNumber: $case) {{ {MEASURE_FIELDS} }} }}"
AUDIT = """query($id: String!) { auditEvents(filter: {measureId: $id}, first: 50) { edges { node {
  index kind outcome operationKind caseNumber errorCodes
  agencies { agencyId outcome responseDigest }
  measures { measureId kind step status amount until reference reason actsOn
             ruling { number date } notice { number date } } } } } }"""

_ids = itertools.count(1)


def request_id(prefix: str = "req") -> str:
    """A fresh client-chosen request id."""
    return f"{prefix}-{next(_ids):06d}-test"


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> DemoWorld:
    """The six demo agencies (connectors only read their tables)."""
    return seed_demo_agencies(tmp_path_factory.mktemp("measures"))


@dataclass
class Desk:
    """A gateway with demo agencies and cases, and the tokens of the case's officers."""

    gateway: Gateway
    world: DemoWorld
    cases: list[CaseEntry]
    officer: str
    colleague: str
    auditor: str
    banks: dict[str, ControlledConnector]

    @property
    def case(self) -> CaseEntry:
        """The first demo case: open, both officers assigned, a claim recorded."""
        return self.cases[0]

    def subject(self, entry: CaseEntry | None = None) -> dict[str, Any]:
        """The ``subject`` input of a case's first respondent."""
        respondent = (entry or self.case).respondents[0]
        key = "residentId" if respondent.id_type == "resident_id" else "creditCode"
        return {key: respondent.id_number, "name": respondent.name}

    async def call(self, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        """POST an operation; the JSON body."""
        response = await self.gateway.graphql(token or self.officer, query, variables)
        assert response.status_code in (200, 403), response.text
        return response.json()

    async def investigate(self, entry: CaseEntry | None = None) -> list[dict[str, Any]]:
        """The bank accounts an investigation returns (and so remembers)."""
        entry = entry or self.case
        body = await self.call(
            INVESTIGATE, {"caseNumber": entry.case_number, "subject": self.subject(entry)}
        )
        accounts: list[dict[str, Any]] = body["data"]["investigation"]["bankAccounts"]
        return accounts

    def freeze_input(self, account: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """A freeze of ``account`` under the first case, with its documents."""
        given = {
            "requestId": request_id("freeze"),
            "caseNumber": self.case.case_number,
            "subject": self.subject(),
            "agencyId": account["agency"]["id"],
            "assetKey": account["accountNumber"],
            "ruling": RULING,
            "notice": NOTICE,
            "amount": "1000.00",
        }
        given.update(changes)
        return {k: v for k, v in given.items() if v is not None}

    async def freeze(self, account: dict[str, Any], **changes: Any) -> Any:
        """Order a freeze; the JSON body."""
        return await self.call(FREEZE, {"input": self.freeze_input(account, **changes)})

    async def act(
        self, name: str, measure_id: str, token: str | None = None, **changes: Any
    ) -> Any:
        """Order ``renewFreeze``, ``unfreeze``, ``deduct`` ... on a measure; the JSON body."""
        given = {
            "requestId": request_id(name),
            "measureId": measure_id,
            "ruling": RULING,
            "notice": NOTICE,
        }
        given.update(changes)
        given = {k: v for k, v in given.items() if v is not None}
        query = ACT.format(name=name, fields=MEASURE_FIELDS)
        return await self.call(query, {"input": given}, token)

    async def measure(self, measure_id: str) -> dict[str, Any]:
        """``measure(id)``: the agency is asked about a pending measure first."""
        body = await self.call(MEASURE, {"id": measure_id})
        assert "errors" not in body, body
        found: dict[str, Any] = body["data"]["measure"]
        return found

    async def my_measures(self) -> list[dict[str, Any]]:
        """The officer's measures on the first case."""
        body = await self.call(MY_MEASURES, {"case": self.case.case_number})
        rows: list[dict[str, Any]] = body["data"]["myMeasures"]
        return rows

    async def audit(self, measure_id: str) -> list[dict[str, Any]]:
        """The audit events about one measure, as the auditor finds them."""
        body = await self.call(AUDIT, {"id": measure_id}, self.auditor)
        assert "errors" not in body, body
        return [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]

    async def freeze_executed(self, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Investigate, freeze the first account and follow it to executed."""
        account = (await self.investigate())[0]
        body = await self.freeze(account, **changes)
        assert "errors" not in body, body
        measure = await self.measure(body["data"]["freeze"]["id"])
        assert measure["status"] == "EXECUTED", measure
        return account, measure


def _controlled(connector: Connector, tmp_path: Path, world: DemoWorld) -> Connector:
    identity = connector.identity
    if not takes_measures(identity.kind):
        return connector
    agency = world.agency(identity.id)
    ledger = f"sqlite:///{tmp_path / f'{identity.id}.measures.sqlite'}"
    close = getattr(connector, "close", None)
    if close is not None:
        close()
    return build_controlled(identity.kind, identity, agency.database_url, ledger)


@pytest.fixture
async def desk(gateway: Gateway, world: DemoWorld, tmp_path: Path) -> AsyncIterator[Desk]:
    """The gateway fixture (SQLite and PostgreSQL) with demo agencies taking measures."""
    connectors = [
        _controlled(agency.build_connector(), tmp_path, world) for agency in world.agencies
    ]
    gateway.services.agencies = AgencyRegistry(RegisteredAgency(c) for c in connectors)
    entries = demo_case_entries(world, COURT_ID, OFFICER_ID)
    for entry in entries:
        gateway.services.cases.save(entry)
    store = gateway.services.measures
    assert store is not None
    store.set_enforcement(CaseEnforcement(entries[0].case_number, CLAIM_CENTS, OFFICER_ID))
    wanted = {scopes.INVESTIGATE, scopes.CONTROL, scopes.CASES_READ, scopes.POLICY_EXPLAIN}
    officer = gateway.register(
        "officer", Role.OFFICER, wanted, court_id=COURT_ID, officer_id=OFFICER_ID
    )
    colleague = gateway.register(
        "colleague", Role.OFFICER, wanted, court_id=COURT_ID, officer_id=COLLEAGUE_ID
    )
    auditor = gateway.register("auditor", Role.AUDITOR, {scopes.AUDIT_READ}, court_id=COURT_ID)
    banks = {c.identity.id: c for c in connectors if isinstance(c, ControlledConnector)}
    try:
        yield Desk(
            gateway,
            world,
            entries,
            await gateway.token(*officer),
            await gateway.token(*colleague),
            await gateway.token(*auditor),
            banks,
        )
    finally:
        for connector in connectors:
            close = getattr(connector, "close", None)
            if close is not None:
                close()
