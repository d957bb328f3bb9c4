"""``POST /graphql``: JSON only, one operation per request, bearer token required.

The order is the design's (DESIGN.md §3): edge checks, authentication, then the
operation with its limits; HTTP statuses follow RFC 6750 for token problems and
use 400 for a request that is not a GraphQL request at all.
"""

from __future__ import annotations

from typing import Any

import orjson
import strawberry
import structlog
from starlette.requests import Request
from starlette.responses import Response

from gateway.audit.http import RequestAudit
from gateway.auth.validator import InvalidToken
from gateway.context import RequestContext
from gateway.errors import CredgateError
from gateway.middleware.body_limit import BodyTooLarge
from gateway.schema.errors import PARSE_FAILED, VALIDATION_FAILED, classify_all
from gateway.services import Services

log = structlog.get_logger("gateway.graphql")
REALM = 'realm="credgate"'


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response encoded with orjson."""
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _request_error(message: str, code: str, status: int = 400) -> Response:
    return json_response({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def _unauthorized(error: InvalidToken, had_token: bool) -> Response:
    # RFC 6750 §3.1: with no token at all, no error code; otherwise invalid_token.
    # The reason stays in our logs: telling an attacker why a token failed helps them;
    # only an authentic token's expiry is said (error_description), so clients renew.
    challenge = f'Bearer {REALM}, error="invalid_token"' if had_token else f"Bearer {REALM}"
    if had_token and error.description:
        challenge += f', error_description="{error.description}"'
    log.info("token_rejected", reason=error.reason)
    return json_response(
        {"errors": [{"message": error.message, "extensions": {"code": error.code}}]},
        401,
        {"WWW-Authenticate": challenge},
    )


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _parse_body(body: bytes) -> tuple[str, dict[str, Any] | None, str | None] | Response:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _request_error("The body is not valid JSON.", "BAD_REQUEST")
    if isinstance(payload, list):
        return _request_error("Batched operations are not accepted.", "BAD_REQUEST")
    if not isinstance(payload, dict):
        return _request_error("The body must be a JSON object.", "BAD_REQUEST")
    query, variables, operation = (
        payload.get("query"),
        payload.get("variables"),
        payload.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        return _request_error("'query' must be a non-empty string.", "BAD_REQUEST")
    if variables is not None and not isinstance(variables, dict):
        return _request_error("'variables' must be an object.", "BAD_REQUEST")
    if operation is not None and not isinstance(operation, str):
        return _request_error("'operationName' must be a string.", "BAD_REQUEST")
    return query, variables, operation


def _status_and_headers(errors: list[dict[str, Any]], has_data: bool) -> tuple[int, dict[str, str]]:
    codes = [error.get("extensions", {}).get("code") for error in errors]
    if not has_data and codes and all(c in (PARSE_FAILED, VALIDATION_FAILED) for c in codes):
        return 400, {}
    scopes = [
        error["extensions"].get("scope")
        for error in errors
        if error.get("extensions", {}).get("code") == "INSUFFICIENT_SCOPE"
    ]
    if scopes and not has_data:
        scope = " ".join(sorted({s for s in scopes if s}))
        challenge = f'Bearer {REALM}, error="insufficient_scope", scope="{scope}"'
        return 403, {"WWW-Authenticate": challenge}
    return 200, {}


class GraphQLEndpoint:
    """The ASGI handler of ``/graphql``."""

    def __init__(self, schema: strawberry.Schema, services: Services) -> None:
        self.schema = schema
        self.services = services

    async def handle(self, request: Request) -> Response:
        """Handle one request and release the answer once its audit event is durable."""
        request_id = request.scope.get("state", {}).get("request_id", "")
        audit = RequestAudit(self.services.audit, request_id)
        with audit.under_way():
            try:
                response = await self._handle(request, audit)
            except BodyTooLarge:
                # A body that grew past the limit while streaming is a refusal too.
                limit = self.services.settings.max_body_bytes
                response = _request_error(
                    f"Request body over {limit} bytes.", "PAYLOAD_TOO_LARGE", 413
                )
            return await audit.seal(response)

    async def _handle(self, request: Request, audit: RequestAudit) -> Response:
        """Authenticate, parse, execute one operation and shape the HTTP answer."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _request_error(
                "Send the operation as JSON (Content-Type: application/json).",
                "UNSUPPORTED_MEDIA_TYPE",
                415,
            )
        token = bearer_token(request)
        try:
            if token is None:
                raise InvalidToken("no bearer token")
            principal = await self.services.token_validator.validate(token)
        except InvalidToken as error:
            # The audit event gets the category only, never the token (DESIGN.md §7).
            audit.unauthenticated("invalid_token" if token is not None else "missing_token")
            return _unauthorized(error, token is not None)
        except CredgateError as error:
            audit.unauthenticated("issuer_unavailable")
            return json_response(
                {"errors": [{"message": error.message, "extensions": error.extensions()}]}, 503
            )
        structlog.contextvars.bind_contextvars(
            client_id=principal.client_id, role=principal.role.value
        )
        audit.authenticated(principal)

        parsed = _parse_body(await request.body())
        if isinstance(parsed, Response):
            return parsed
        query, variables, operation = parsed
        audit.operation(query, operation)
        context = RequestContext(
            request_id=request.scope.get("state", {}).get("request_id", ""),
            principal=principal,
            services=self.services,
            request=request,
        )
        audit.attach(context.access)
        result = await self.schema.execute(
            query, variable_values=variables, context_value=context, operation_name=operation
        )
        body: dict[str, Any] = {"data": result.data}
        errors = classify_all(result.errors)
        if errors:
            body["errors"] = errors
        if context.response_extensions:
            body["extensions"] = context.response_extensions
        status, headers = _status_and_headers(errors, result.data is not None)
        if status == 400:
            body.pop("data", None)
        return json_response(body, status, headers)
