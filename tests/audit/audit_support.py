"""Shared pieces of the audit log's tests: a gateway with a probe resolver, dumps, helpers.

The probe resolver plays the federation's part of the contract: it fills the
request's AccessRecord, calls ``before_fanout()`` and only then "asks an
agency", returning data that contains the subject's ID number.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import strawberry
from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine
from strawberry.types import Info

from gateway.access_record import AgencyCall, FieldDecisionRecord, FieldOutcome
from gateway.audit.log import AuditLog
from gateway.audit.merkle import leaf_hash
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.context import RequestContext
from tests.conftest import Gateway, prepare_deployment, serving

# Valid resident ID numbers (GB 11643 check digits), as in the demo population.
RESIDENT_IDS = ("410823198507142317", "41082319900101104X", "410802197712310029")

PROBE = """query Probe($subject: String!) { probe(subject: $subject) }"""
ME = "query Me { me { role } }"


@strawberry.type
class ProbeQuery:
    @strawberry.field
    async def probe(self, info: Info[RequestContext, None], subject: str) -> str:
        record = info.context.access.record
        record.operation = "probe"
        record.case_number = "(2024)豫0823执123号"
        record.court_id = "court-wuzhi"
        record.document = "协助查询通知书 2024-001"
        record.subjects.append(subject)
        record.policy_set_hash = "sha256:policies"
        await info.context.access.before_fanout()
        record.agency_calls.append(
            AgencyCall(
                agency_id="bank-icbc",
                datasets={"bank.accounts": ["balance"]},
                outcome="ok",
                latency_ms=12,
                response_digest="sha256:answer",
                records=1,
            )
        )
        record.fields.append(
            FieldDecisionRecord(
                "bank", "bank.accounts", "balance", FieldOutcome.MASKED, ["gateway.mask"]
            )
        )
        return f"agency-data for {subject}"


async def started_gateway(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Gateway]:
    """A gateway whose schema also has the probe resolver."""
    import gateway.schema as schema_module

    monkeypatch.setattr(schema_module, "QUERY_TYPES", (*schema_module.QUERY_TYPES, ProbeQuery))
    async with serving(prepare_deployment(tmp_path / "data", database_url)) as gateway:
        yield gateway


@pytest.fixture
async def probe_gateway(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Gateway]:
    """The probe gateway on SQLite and PostgreSQL."""
    async for gateway in started_gateway(tmp_path, database_url, monkeypatch):
        yield gateway


async def token_for(gateway: Gateway, role: Role, granted: set[str], **attributes: str) -> str:
    """A token of a freshly registered client."""
    name = f"{role.value}-{secrets.token_hex(4)}"
    client_id, secret = gateway.register(name, role, granted, **attributes)  # type: ignore[arg-type]
    return await gateway.token(client_id, secret)


async def officer_token(gateway: Gateway) -> str:
    """An officer of the demo court."""
    return await token_for(
        gateway,
        Role.OFFICER,
        {scopes.INVESTIGATE},
        court_id="court-wuzhi",
        officer_id="officer-wz-001",
    )


async def auditor_token(gateway: Gateway) -> str:
    """An auditor."""
    return await token_for(gateway, Role.AUDITOR, {scopes.AUDIT_READ}, court_id="court-wuzhi")


def audit_log(gateway: Gateway) -> AuditLog:
    """The gateway's audit log."""
    assert gateway.services.audit is not None
    return gateway.services.audit


def dump_database(engine: Engine) -> str:
    """Every row of every table, as text (what `pg_dump --data-only` would show)."""
    reflected = MetaData()
    reflected.reflect(engine)
    parts = []
    with engine.connect() as connection:
        for table in reflected.sorted_tables:
            for row in connection.execute(select(table)):
                parts.append(repr(tuple(row)))
                parts.extend(value.decode("latin-1") for value in row if isinstance(value, bytes))
    return "\n".join(parts)


def raw_sqlite_bytes(database_url: str) -> bytes:
    """The SQLite database file and its WAL, byte for byte (empty for PostgreSQL)."""
    if not database_url.startswith("sqlite"):
        return b""
    path = Path(database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def leaf_of_entry(entry: str) -> str:
    """Base64 leaf hash recomputed from an event's canonical JSON."""
    return base64.b64encode(leaf_hash(entry.encode("utf-8"))).decode("ascii")


def event_dict(entry: str) -> dict[str, Any]:
    """An event's JSON as a dict."""
    value: dict[str, Any] = orjson.loads(entry)
    return value
