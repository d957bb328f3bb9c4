"""Every demo connector passes the conformance suite through the signed HTTP transport.

Each demo agency's SQL connector runs behind a real connector service (uvicorn
on 127.0.0.1); the suite drives a RemoteConnector, as the gateway does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import pytest

from connectors.demo import DEMO_AGENCIES, DemoWorld
from connectors.registry import build_connector
from connectors.remote import RemoteAgency, RemoteConnector
from connectors.sdk import Subject
from connectors.service import create_service
from connectors.signing import MessageKey, TrustedKeys
from connectors.sql import SqlConnector
from connectors.testing import CHECKS, ConformanceCase, ConformanceCheck
from tests.connectors.servers import ServerThread, key_pair, serving

AGENCY_IDS = [identity.id for identity in DEMO_AGENCIES]


@dataclass
class AgencyServices:
    """The running services of the demo agencies, and the keys on both sides."""

    gateway_key: MessageKey
    agency_trust: TrustedKeys
    working: dict[str, ServerThread]
    broken: dict[str, ServerThread]


@pytest.fixture(scope="module")
def agency_services(
    demo_world: DemoWorld, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[AgencyServices]:
    """Two services per demo agency: over its database, and over a missing one."""
    keys = tmp_path_factory.mktemp("keys")
    gateway_key, gateway_trust = key_pair(keys, "gateway")
    agency_key, agency_trust = key_pair(keys, "agency")
    missing = keys / "missing.sqlite"
    built: list[SqlConnector] = []
    working: dict[str, ServerThread] = {}
    broken: dict[str, ServerThread] = {}
    with_stack = []
    try:
        for identity in DEMO_AGENCIES:
            for url, servers in (
                (demo_world.agency(identity.id).database_url, working),
                (f"sqlite:///file:{missing}?mode=ro&uri=true", broken),
            ):
                connector = build_connector(identity.kind, identity, url)
                built.append(connector)
                context = serving(create_service(connector, agency_key, gateway_trust))
                servers[identity.id] = context.__enter__()
                with_stack.append(context)
        yield AgencyServices(gateway_key, agency_trust, working, broken)
    finally:
        for context in reversed(with_stack):
            context.__exit__(None, None, None)
        for connector in built:
            connector.close()


RemoteFactory = Callable[[str, ServerThread], Awaitable[RemoteConnector]]


@pytest.fixture
async def remote(agency_services: AgencyServices) -> AsyncIterator[RemoteFactory]:
    """RemoteConnectors built on the test's loop, closed afterwards."""
    made: list[RemoteConnector] = []

    async def make(agency_id: str, server: ServerThread) -> RemoteConnector:
        identity = next(i for i in DEMO_AGENCIES if i.id == agency_id)
        agency = RemoteAgency(identity, server.url, agency_services.agency_trust, retries=0)
        connector = RemoteConnector(agency, agency_services.gateway_key)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        await connector.aclose()


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("agency_id", AGENCY_IDS)
async def test_demo_connector_conforms_over_http(
    check: ConformanceCheck,
    agency_id: str,
    demo_world: DemoWorld,
    agency_services: AgencyServices,
    remote: RemoteFactory,
    unknown_subject: Subject,
) -> None:
    connector = await remote(agency_id, agency_services.working[agency_id])
    broken = await remote(agency_id, agency_services.broken[agency_id])
    await check(ConformanceCase(connector, demo_world.debtors[0].subject, unknown_subject, broken))
