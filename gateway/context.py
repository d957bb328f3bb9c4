"""The per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from gateway.access_record import AccessTrail
from gateway.auth.principal import Principal
from gateway.services import Services


@dataclass
class RequestContext:
    """What a resolver may know about the request it serves.

    Attributes:
        request_id: the id bound in logs and audit events.
        principal: the authenticated caller.
        services: the process-wide parts (stores, policy, audit, connectors).
        request: the HTTP request.
        access: what the request did with personal data, for the audit log.
        response_extensions: extra top-level ``extensions`` for the response
            (the audit receipt goes here).
        memo: per-request cache (e.g. a case loaded once for the request).
    """

    request_id: str
    principal: Principal
    services: Services
    request: Request
    access: AccessTrail = field(default_factory=AccessTrail)
    response_extensions: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
