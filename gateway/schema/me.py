"""The ``me`` query: the caller's own principal, so clients can check their token."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.context import RequestContext


@strawberry.type(description="The caller, as the gateway sees its access token.")
class Me:
    subject: str
    client_id: str
    role: str
    court_id: str | None
    agency_id: str | None
    officer_id: str | None
    scopes: list[str]
    issuer: str


@strawberry.type
class MeQuery:
    @strawberry.field(description="Who the access token says you are.")
    def me(self, info: Info[RequestContext, None]) -> Me:
        p = info.context.principal
        return Me(
            subject=p.subject,
            client_id=p.client_id,
            role=p.role.value,
            court_id=p.court_id,
            agency_id=p.agency_id,
            officer_id=p.officer_id,
            scopes=sorted(p.scopes),
            issuer=p.issuer,
        )
