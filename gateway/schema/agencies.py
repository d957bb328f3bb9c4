"""``agencies``: every configured agency with how it has been answering lately.

For officers (why is the bank's part of my answer missing?) and operators
(which connector needs attention?). Remote connectors report their circuit
breaker and recent calls; in-process ones run inside the gateway and are up
while it is.
"""

from __future__ import annotations

import datetime
from typing import Protocol, runtime_checkable

import strawberry
from strawberry.types import Info

from connectors.agency_status import AgencyState, AgencyStatus
from gateway.agencies import RegisteredAgency
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.context import RequestContext
from gateway.errors import Forbidden
from gateway.schema.permissions import requires_scope

AgencyHealth = strawberry.enum(
    AgencyState,
    name="AgencyHealth",
    description="UP, DEGRADED (recent failures), DOWN (the latest calls failed), "
    "CIRCUIT_OPEN (calls fail fast until a probe succeeds), UNKNOWN (not called yet).",
)
_ROLES = frozenset({Role.OFFICER, Role.ADMIN})


@runtime_checkable
class _ReportsStatus(Protocol):
    transport: str

    def status(self) -> AgencyStatus: ...


@strawberry.type(description="An agency the gateway asks, and its recent health.")
class ConfiguredAgency:
    id: str
    kind: str
    name: str
    transport: str = strawberry.field(description="in_process or http.")
    status: AgencyHealth  # type: ignore[valid-type]
    last_error: str | None = strawberry.field(description="CODE: message of the latest failure.")
    last_error_at: datetime.datetime | None
    latency_p50_ms: float | None = strawberry.field(
        description="Median latency of the recent successful calls, in milliseconds."
    )
    recent_calls: int
    recent_failures: int
    deadline_s: float
    datasets: list[str]


def _agency(registered: RegisteredAgency) -> ConfiguredAgency:
    connector = registered.connector
    if isinstance(connector, _ReportsStatus):
        transport, status = connector.transport, connector.status()
    else:
        transport, status = "in_process", AgencyStatus(AgencyState.UP)
    identity = registered.identity
    return ConfiguredAgency(
        id=identity.id,
        kind=identity.kind,
        name=identity.name,
        transport=transport,
        status=status.state,
        last_error=status.last_error,
        last_error_at=status.last_error_at,
        latency_p50_ms=status.latency_p50_ms,
        recent_calls=status.recent_calls,
        recent_failures=status.recent_failures,
        deadline_s=registered.deadline_s,
        datasets=sorted(connector.datasets),
    )


@strawberry.type
class AgenciesQuery:
    @strawberry.field(
        description="Every configured agency: transport, health, last error, recent latency.",
        permission_classes=[requires_scope(scopes.AGENCIES_READ)],
    )
    def agencies(self, info: Info[RequestContext, None]) -> list[ConfiguredAgency]:
        if info.context.principal.role not in _ROLES:
            raise Forbidden("Agency health is for officers and operators.")
        return [_agency(registered) for registered in info.context.services.agencies]
