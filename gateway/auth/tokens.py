"""Minting RFC 9068 JWT access tokens for the built-in issuer."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from joserfc import jwt

from gateway.auth.clients import OAuthClient
from gateway.keys import SigningKey

# RFC 9068 §2.1: access tokens carry "typ": "at+jwt" so they are never confused
# with ID tokens or other JWTs (RFC 8725 §3.11, explicit typing).
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
# RFC 8725 §3.1: the algorithms are pinned. "Ed25519" is the fully specified name
# of RFC 9864; the polymorphic "EdDSA" is deprecated there.
SIGNING_ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class AccessTokenMinter:
    """Signs access tokens for the clients of the built-in issuer."""

    issuer: str
    audience: str
    key: SigningKey
    lifetime_s: int

    def mint(self, client: OAuthClient, scopes: frozenset[str]) -> tuple[str, int]:
        """Return a signed access token for ``client`` and its lifetime in seconds."""
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client.officer_id or client.client_id,
            "client_id": client.client_id,
            "scope": " ".join(sorted(scopes)),
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_s,
            "jti": secrets.token_urlsafe(16),
            "role": client.role.value,
        }
        for name, value in (
            ("court_id", client.court_id),
            ("agency_id", client.agency_id),
            ("officer_id", client.officer_id),
        ):
            if value is not None:
                claims[name] = value
        header = {"alg": SIGNING_ALGORITHM, "typ": ACCESS_TOKEN_TYPE, "kid": self.key.kid}
        token = jwt.encode(header, claims, self.key.jwk, algorithms=[SIGNING_ALGORITHM])
        return token, self.lifetime_s
