"""The audit log's part in ``POST /graphql``: one outcome event per request.

The endpoint records what it learns on a :class:`RequestAudit` as it goes
(caller, operation, the request context), and hands it every response it is
about to send, refused ones included. :meth:`RequestAudit.seal` appends the
outcome event durably and only then releases the response, with the receipt
in ``extensions.audit``; if the event cannot be made durable, it releases a
503 ``AUDIT_UNAVAILABLE`` and no data instead (fail closed, DESIGN.md §7).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import structlog
from starlette.responses import Response

from gateway.access_record import AccessRecord, AccessTrail
from gateway.audit.events import (
    RequestFacts,
    document_hash,
    intent_draft,
    operation_name,
    outcome_draft,
)
from gateway.audit.log import AuditLog
from gateway.audit.writer import AuditUnavailable
from gateway.auth.principal import Principal

__all__ = ["RequestAudit"]

log = structlog.get_logger("gateway.audit")

# Headers recomputed for the new body.
_BODY_HEADERS = frozenset({"content-length", "content-type"})


class RequestAudit:
    """What the endpoint learns about one request, turned into its audit events.

    Args:
        audit_log: The gateway's audit log; without one every response is
            refused with ``AUDIT_UNAVAILABLE`` (fail closed).
        request_id: The request's id.
    """

    def __init__(self, audit_log: AuditLog | None, request_id: str) -> None:
        self._log = audit_log
        self.facts = RequestFacts(request_id=request_id)
        self._record: AccessRecord | None = None
        self._intent: asyncio.Future[None] | None = None

    @contextmanager
    def under_way(self) -> Iterator[None]:
        """Count the request as under way until the block ends (see ``AuditLog.request``)."""
        if self._log is None:
            yield
            return
        with self._log.request():
            yield

    def authenticated(self, principal: Principal) -> None:
        """The token was valid: the caller is ``principal``."""
        self.facts.principal = principal

    def unauthenticated(self, category: str) -> None:
        """Authentication failed; ``category`` says how, never with the token itself."""
        self.facts.auth_failure = category

    def operation(self, query: str, supplied_name: str | None) -> None:
        """The GraphQL document was read: keep its hash and operation name."""
        self.facts.document_hash = document_hash(query)
        self.facts.operation_name = operation_name(query, supplied_name)

    def attach(self, trail: AccessTrail) -> None:
        """Make ``trail.start_intent()`` append this request's intent event durably."""
        # The record, not the trail: the trail holds write_intent, which holds
        # self, and a cycle would leave the request to the cyclic collector.
        self._record = trail.record

        def write_intent(record: AccessRecord) -> Awaitable[None]:
            # Drafted and queued now, so the intent states what the request had
            # established when it was started, and its commit runs while the
            # request goes on (the case look-up, the field decisions).
            audit_log = self._log
            draft = intent_draft(self.facts, record)
            committed = None if audit_log is None else audit_log.submit([draft])
            self._intent = asyncio.ensure_future(self._watch_intent(committed))
            return self._intent

        trail.write_intent = write_intent

    async def _watch_intent(self, committed: Awaitable[object] | None) -> None:
        if committed is None:
            raise AuditUnavailable
        await committed

    async def seal(self, response: Response) -> Response:
        """Append the outcome event, then release ``response`` with its receipt.

        Args:
            response: The JSON response the endpoint would send.

        Returns:
            The response with ``extensions.audit``; or, if the outcome cannot be
            made durable or the intent could not be, a 503 without data.
        """
        intent_failed = False
        if self._intent is not None:
            # A request that failed before its fan-out may not have waited for
            # its intent: the outcome follows it, and says if it failed.
            (settled,) = await asyncio.gather(self._intent, return_exceptions=True)
            intent_failed = isinstance(settled, AuditUnavailable)
        body = _json_body(response)
        codes = _error_codes(body)
        record = self._record if self._record is not None else AccessRecord()
        if intent_failed:
            codes = [*codes, AuditUnavailable.code]
        try:
            if self._log is None:
                raise AuditUnavailable
            (event,) = await self._log.append([outcome_draft(self.facts, record, codes)])
        except AuditUnavailable:
            return _unavailable(None)
        if intent_failed:
            return _unavailable(event.receipt)
        extensions = body.get("extensions")
        body["extensions"] = {**(extensions if isinstance(extensions, dict) else {})}
        body["extensions"]["audit"] = dict(event.receipt)
        headers = {k: v for k, v in response.headers.items() if k.lower() not in _BODY_HEADERS}
        return Response(orjson.dumps(body), response.status_code, headers, "application/json")


def _json_body(response: Response) -> dict[str, Any]:
    try:
        body = orjson.loads(bytes(response.body))
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_codes(body: dict[str, Any]) -> list[str]:
    codes = []
    for error in body.get("errors") or []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        if isinstance(code, str):
            codes.append(code)
    return codes


def _unavailable(receipt: object | None) -> Response:
    error = AuditUnavailable()
    body: dict[str, Any] = {
        "errors": [{"message": error.message, "extensions": {"code": error.code}}]
    }
    if receipt is not None:
        body["extensions"] = {"audit": receipt}
    log.error("audit_fail_closed")
    return Response(orjson.dumps(body), 503, media_type="application/json")
