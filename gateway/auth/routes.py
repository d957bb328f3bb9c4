"""HTTP routes of the built-in issuer: token endpoint, RFC 8414 metadata, JWKS."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from gateway.auth.scopes import SCOPES
from gateway.db import run_sync
from gateway.graphql_endpoint import json_response
from gateway.services import Services

FORM = "application/x-www-form-urlencoded"


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    # RFC 6749 §5.1/5.2: token responses must not be cached.
    return json_response(
        {"error": error, "error_description": description},
        status,
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


class TokenEndpoint:
    """``POST /oauth/token``: the client_credentials grant (RFC 6749 §4.4)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle(self, request: Request) -> Response:
        """Authenticate the client and issue an RFC 9068 access token."""
        server = self.services.authorization_server
        if server is None:
            return _oauth_error("unsupported_grant_type", "This gateway issues no tokens.", 404)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != FORM:
            # RFC 6749 §4.4.2: parameters are form-encoded in the request body.
            return _oauth_error("invalid_request", f"Send the parameters as {FORM}.")
        try:
            # A token request is a few short fields: parsed here rather than with a
            # multipart library the gateway would otherwise not need.
            pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):
            return _oauth_error("invalid_request", "The body is not valid form data.")
        fields: dict[str, str] = {}
        for key, value in pairs:
            if key in fields:
                # RFC 6749 §3.2: request parameters must not be included more than once.
                return _oauth_error("invalid_request", f"'{key}' is repeated.")
            fields[key] = value
        headers = request.headers
        # The URL the operator declared public (behind a TLS-terminating proxy the
        # request itself arrives as plain http).
        uri = f"{self.services.settings.public_url}/oauth/token"
        answer = await run_sync(server.issue, uri, headers, fields)
        response_headers = dict(answer.headers)
        response_headers.pop("Content-Type", None)
        response_headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
        return json_response(dict(answer.body), answer.status, response_headers)


def authorization_server_metadata(services: Services) -> dict[str, object]:
    """RFC 8414 metadata of the built-in issuer."""
    issuer = services.settings.issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{services.settings.public_url}/oauth/token",
        "jwks_uri": f"{services.settings.public_url}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": sorted(SCOPES),
        "response_types_supported": [],
        "token_endpoint_auth_signing_alg_values_supported": ["Ed25519"],
    }
