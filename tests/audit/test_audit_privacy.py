"""No resident ID number in plain text: not in the database, not in the logs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from gateway.logging import configure_logging
from tests.audit.audit_support import (
    PROBE,
    RESIDENT_IDS,
    audit_log,
    auditor_token,
    dump_database,
    officer_token,
    probe_gateway,
    raw_sqlite_bytes,
)
from tests.conftest import Gateway

__all__ = ["probe_gateway"]


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The gateway's real log pipeline (JSON lines on standard error)."""
    configure_logging("debug")
    yield
    structlog.reset_defaults()


async def test_database_dump_and_logs_hold_no_resident_id(
    json_logs: None, probe_gateway: Gateway, capfd: pytest.CaptureFixture[str]
) -> None:
    gateway = probe_gateway
    token = await officer_token(gateway)
    for subject in RESIDENT_IDS:
        response = await gateway.graphql(token, PROBE, {"subject": subject})
        assert response.status_code == 200
        # A query that spells the ID out literally, and one that fails on it.
        literal = f'query Probe {{ probe(subject: "{subject}") }}'
        assert (await gateway.graphql(token, literal)).status_code == 200
        await gateway.graphql(token, f'{{ probe(subject: "{subject}") nosuch }}')
    assert audit_log(gateway).integrate_now()
    auditor = await auditor_token(gateway)
    search = """query($id: String) { auditEvents(filter: {subjectId: $id, kind: "outcome"}) {
      edges { node { subjectIds } } } }"""
    found = await gateway.graphql(auditor, search, {"id": RESIDENT_IDS[1]})
    assert found.json()["data"]["auditEvents"]["edges"][0]["node"]["subjectIds"] == [
        RESIDENT_IDS[1]
    ]

    dump = dump_database(gateway.services.engine)
    raw = raw_sqlite_bytes(str(gateway.services.engine.url))
    logs = capfd.readouterr()
    # The subjects are there, as blind indexes only.
    assert audit_log(gateway).cipher.blind_index(RESIDENT_IDS[0]) in dump
    for resident_id in RESIDENT_IDS:
        for variant in (resident_id, resident_id.lower()):
            assert variant not in dump
            assert variant.encode() not in raw
            assert variant not in logs.out
            assert variant not in logs.err
