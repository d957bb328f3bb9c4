"""Fixtures for the connector tests: the seeded demo agencies and their connectors."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from stdnum.cn import ric

from connectors.demo import DemoWorld, seed_demo_agencies
from connectors.sdk import Subject
from connectors.sql import SqlConnector

REFERENCE_DATE = datetime.date(2024, 6, 30)

ConnectorFactory = Callable[[str], SqlConnector]


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory: pytest.TempPathFactory) -> DemoWorld:
    """The six demo agencies, seeded once per session (connectors only read them)."""
    return seed_demo_agencies(tmp_path_factory.mktemp("demo"), today=REFERENCE_DATE)


@pytest.fixture
def connector_for(demo_world: DemoWorld) -> Iterator[ConnectorFactory]:
    """Build connectors to demo agencies by id; their engines are disposed afterwards."""
    built: list[SqlConnector] = []

    def build(agency_id: str) -> SqlConnector:
        connector = demo_world.agency(agency_id).build_connector()
        built.append(connector)
        return connector

    yield build
    for connector in built:
        connector.close()


@pytest.fixture
def unknown_subject(demo_world: DemoWorld) -> Subject:
    """A valid resident ID that no demo agency knows."""
    known = {person.id_number for person in demo_world.people}
    for order in range(1, 999, 2):
        body = f"41082319900101{order:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in known:
            return Subject.resident(number, "查无此人")
    raise AssertionError("every candidate ID is taken")


@pytest.fixture
def missing_database_url(tmp_path: Path) -> str:
    """A read-only SQLite URL to a file that does not exist."""
    return f"sqlite:///file:{tmp_path / 'missing.sqlite'}?mode=ro&uri=true"
