"""The test doubles shipped with the SDK."""

from __future__ import annotations

import asyncio

import pytest

from connectors.conformance import conformance_request
from connectors.demo import DEMO_AGENCIES, DemoWorld
from connectors.sdk import AgencyTimeout, DatasetQuery, Subject
from connectors.testing import DelayedConnector, FailingConnector, RecordingConnector
from tests.connectors.conftest import ConnectorFactory

QUERY = {"tax.refunds": DatasetQuery(frozenset({"amount"}))}


async def test_delayed_connector_delegates_after_the_delay(
    demo_world: DemoWorld, connector_for: ConnectorFactory
) -> None:
    inner = connector_for("tax-jiaozuo")
    delayed = DelayedConnector(inner, 0.0)
    assert (delayed.identity, delayed.datasets) == (inner.identity, inner.datasets)
    request = conformance_request(demo_world.debtors[0].subject, QUERY)
    assert await delayed.fetch(request) == await inner.fetch(request)


async def test_delayed_connector_is_cancelled_under_a_deadline(
    demo_world: DemoWorld, connector_for: ConnectorFactory
) -> None:
    recording = RecordingConnector(connector_for("tax-jiaozuo"))
    delayed = DelayedConnector(recording, 3600)
    request = conformance_request(demo_world.debtors[0].subject, QUERY)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(delayed.fetch(request), 0.01)
    assert not recording.called


async def test_failing_connector_raises_its_error(unknown_subject: Subject) -> None:
    identity = DEMO_AGENCIES[3]
    error = AgencyTimeout("no answer in 5 s", agency_id=identity.id)
    failing = FailingConnector(identity, frozenset({"tax.refunds"}), error)
    with pytest.raises(AgencyTimeout) as caught:
        await failing.fetch(conformance_request(unknown_subject, QUERY))
    assert caught.value is error
    assert failing.datasets == frozenset({"tax.refunds"})


async def test_recording_connector_keeps_requests_in_order(
    demo_world: DemoWorld, connector_for: ConnectorFactory, unknown_subject: Subject
) -> None:
    recording = RecordingConnector(connector_for("tax-jiaozuo"))
    assert not recording.called
    first = conformance_request(demo_world.debtors[0].subject, QUERY, request_id="1")
    second = conformance_request(unknown_subject, QUERY, request_id="2")
    await recording.fetch(first)
    result = await recording.fetch(second)
    assert recording.requests == [first, second]
    assert result.records == {"tax.refunds": []}
