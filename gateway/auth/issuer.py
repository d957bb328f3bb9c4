"""The built-in OAuth 2.0 authorization server: ``client_credentials`` at ``/oauth/token``.

authlib supplies the protocol (client authentication, grant validation, RFC 6749
error responses); this module binds it to Starlette and to the client store, as
authlib's own framework integrations do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from gateway.auth.clients import ClientStore, OAuthClient, verify_secret
from gateway.auth.scopes import SCOPES
from gateway.auth.tokens import AccessTokenMinter

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
INVALID_CLIENT_DESCRIPTION = (
    "The client credentials are wrong: unknown client id, wrong secret, or a disabled client."
)


class _RegisteredClient(ClientMixin):  # type: ignore[misc]
    """Adapts an :class:`OAuthClient` to authlib's ``ClientMixin``."""

    def __init__(self, client: OAuthClient) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return " ".join(sorted(self.client.scopes))
        return " ".join(s for s in scope.split() if s in self.client.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return verify_secret(client_secret, self.client.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)  # noqa: RUF012 - authlib's own class attribute

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = set((self.request.payload.scope or "").split())
        # RFC 6749 §3.3: a scope beyond what the client was registered for is refused
        # rather than silently narrowed, so clients learn of misconfiguration at once.
        if not requested <= self.request.client.client.scopes:
            raise InvalidScopeError()


@dataclass(frozen=True)
class TokenResponse:
    """What the token endpoint answers: status, JSON body and headers."""

    status: int
    body: Mapping[str, Any]
    headers: list[tuple[str, str]]


class BuiltinAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's authorization server with the client store and JWT minter bound in."""

    def __init__(self, clients: ClientStore, minter: AccessTokenMinter) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self._clients = clients
        self._minter = minter
        self.register_grant(_ClientCredentials)
        self.register_token_generator("default", self._generate_token)

    def query_client(self, client_id: str) -> _RegisteredClient | None:
        client = self._clients.get(client_id)
        if client is None or client.disabled:
            return None
        return _RegisteredClient(client)

    def save_token(self, token: Mapping[str, Any], request: OAuth2Request) -> None:
        # Access tokens are self-contained JWTs; the audit log, not a token table,
        # records what they were used for.
        return None

    def _generate_token(
        self,
        grant_type: str,
        client: _RegisteredClient,
        user: object = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = False,
    ) -> dict[str, Any]:
        scopes = frozenset(scope.split()) if scope else client.client.scopes
        token, lifetime = self._minter.mint(client.client, scopes)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": " ".join(sorted(scopes)),
        }

    def create_oauth2_request(
        self, request: tuple[str, Mapping[str, str], dict[str, str]]
    ) -> OAuth2Request:
        uri, headers, form = request
        oauth_request = OAuth2Request("POST", uri, headers=headers)
        oauth_request.payload = BasicOAuth2Payload(form)
        # authlib reads client_secret_post credentials from request.form.
        oauth_request._body = form
        return oauth_request

    def handle_response(
        self, status: int, body: Mapping[str, Any], headers: list[tuple[str, str]]
    ) -> TokenResponse:
        return TokenResponse(status, body, list(headers))

    def handle_error_response(self, request: OAuth2Request, error: Any) -> TokenResponse:
        response: TokenResponse = super().handle_error_response(request, error)
        if isinstance(error, InvalidClientError):
            # RFC 6749 §5.2: failed client authentication is a 401 whichever method
            # was used, so client_secret_post callers see the same answer as Basic.
            # One description for an unknown client, a wrong secret and a disabled
            # client: it says what to fix without telling which ids exist.
            headers = [h for h in response.headers if h[0].lower() != "www-authenticate"]
            headers.append(("WWW-Authenticate", 'Basic realm="credgate"'))
            body = {**response.body, "error_description": INVALID_CLIENT_DESCRIPTION}
            return TokenResponse(401, body, headers)
        return response

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        return None

    def issue(self, uri: str, headers: Mapping[str, str], form: dict[str, str]) -> TokenResponse:
        """Answer one token request (blocking: client lookup and scrypt)."""
        response: TokenResponse = self.create_token_response((uri, headers, form))
        return response
