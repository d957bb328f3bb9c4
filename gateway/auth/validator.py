"""Validating bearer access tokens per RFC 9068 and RFC 8725, into a :class:`Principal`.

Every failure raises :class:`InvalidToken` with a reason for the logs and the
audit event; the client sees only ``error="invalid_token"`` (RFC 6750 §3.1),
nothing that helps an attacker.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError

from gateway.auth.jwks import KeySource
from gateway.auth.principal import Principal, Role
from gateway.auth.tokens import ACCESS_TOKEN_TYPE
from gateway.errors import Unauthenticated

# RFC 8725 §3.1: only these algorithms are ever accepted; "none", HS* (which would
# let a public key act as an HMAC secret) and the deprecated polymorphic EdDSA are out.
ALLOWED_ALGORITHMS = ("Ed25519", "ES256")
LEEWAY_S = 60
VERIFIED_TOKENS = 4096
"""How many verified tokens keep their signature check (a client reuses its token
for its lifetime; the claims are still checked on every use)."""
TOKEN_EXPIRED = "the access token expired"  # noqa: S105 - a message, not a secret


class InvalidToken(Unauthenticated):
    """The bearer token is missing or invalid.

    Attributes:
        reason: Why, for the logs only.
        description: What the client may be told (RFC 6750 ``error_description``),
            or ``None``: only an authentic token's expiry is said, since it helps
            a legitimate client (get a new token) and tells a forger nothing.
    """

    def __init__(self, reason: str, description: str | None = None) -> None:
        expired = "The access token expired."
        super().__init__(expired if description else "The access token is missing or invalid.")
        self.reason = reason
        self.description = description


@dataclass(frozen=True)
class IssuerTrust:
    """An issuer the gateway accepts tokens from, with its keys and audience."""

    issuer: str
    audience: str
    keys: KeySource


def _decode_segment(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidToken("malformed token segment") from error
    if not isinstance(value, dict):
        raise InvalidToken("token segment is not a JSON object")
    return value


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("not a compact JWS")
    return _decode_segment(parts[0]), _decode_segment(parts[1])


def _check_type(header: Mapping[str, Any]) -> None:
    typ = str(header.get("typ", "")).lower()
    # RFC 9068 §4: reject tokens whose typ is not "at+jwt" (or "application/at+jwt").
    if typ not in (ACCESS_TOKEN_TYPE, f"application/{ACCESS_TOKEN_TYPE}"):
        raise InvalidToken(f"typ is {header.get('typ')!r}, not at+jwt")
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise InvalidToken(f"algorithm {header.get('alg')!r} not allowed")
    if "crit" in header:
        # RFC 7515 §4.1.11: we understand no extensions, so a critical one is fatal.
        raise InvalidToken("critical header parameters not supported")


def _principal(claims: Mapping[str, Any], issuer: str) -> Principal:
    try:
        role = Role(str(claims.get("role", "")))
    except ValueError:
        raise InvalidToken("token has no known role") from None
    for name in ("sub", "client_id", "jti"):
        if not isinstance(claims.get(name), str):
            raise InvalidToken(f"claim {name} missing")
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise InvalidToken("claim scope is not a string")

    def optional(name: str) -> str | None:
        value = claims.get(name)
        return value if isinstance(value, str) else None

    return Principal(
        subject=claims["sub"],
        client_id=claims["client_id"],
        role=role,
        scopes=frozenset(scope.split()),
        issuer=issuer,
        token_id=claims["jti"],
        court_id=optional("court_id"),
        agency_id=optional("agency_id"),
        officer_id=optional("officer_id"),
    )


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token whose signature was verified with ``key``, the issuer's key ``kid`` then."""

    trust: IssuerTrust
    kid: str
    key: Any
    claims: dict[str, Any]
    principal: Principal


class AccessTokenValidator:
    """Turns a bearer token into a :class:`Principal` or raises :class:`InvalidToken`.

    A token that verified once keeps its verdict for as long as its issuer still
    serves the very key object that verified it: a key rotated out, replaced or
    re-fetched makes the next use verify the signature again. Expiry, audience
    and issuer are checked on every use.
    """

    def __init__(self, issuers: list[IssuerTrust], *, remembered: int = VERIFIED_TOKENS) -> None:
        self._issuers = {trust.issuer: trust for trust in issuers}
        self._verified: dict[str, _Verified] = {}
        self._remembered = remembered
        # Built once: a registry holds only the rules (it reads the clock per check).
        self._claims = {
            trust.issuer: jwt.JWTClaimsRegistry(
                leeway=LEEWAY_S,
                iss={"essential": True, "value": trust.issuer},
                aud={"essential": True, "value": trust.audience},
                exp={"essential": True},
                iat={"essential": True},
            )
            for trust in issuers
        }

    async def validate(self, token: str) -> Principal:
        """Verify signature, type, algorithm, issuer, audience and lifetime."""
        known = self._verified.pop(token, None)
        if known is not None and await known.trust.keys.get(known.kid) is known.key:
            self._check_claims(known.trust, known.claims)
            self._verified[token] = known
            return known.principal
        verified = await self._verify(token)
        if len(self._verified) >= self._remembered:
            # Least recently used first: every use re-inserts its token at the end.
            del self._verified[next(iter(self._verified))]
        self._verified[token] = verified
        return verified.principal

    def _check_claims(self, trust: IssuerTrust, claims: dict[str, Any]) -> None:
        try:
            self._claims[trust.issuer].validate(claims)
        except ExpiredTokenError:
            # The signature was verified first: this is our token, only too old.
            raise InvalidToken("token expired", TOKEN_EXPIRED) from None
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidToken(f"{type(error).__name__}: {error}") from None

    async def _verify(self, token: str) -> _Verified:
        header, unverified = _unverified_parts(token)
        _check_type(header)
        # RFC 9068 §4: the issuer must exactly match a configured one; its own JWKS
        # (not anything in the token) supplies the key.
        trust = self._issuers.get(str(unverified.get("iss")))
        if trust is None:
            raise InvalidToken("unknown issuer")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("no kid")
        key = await trust.keys.get(kid)
        if key is None:
            raise InvalidToken("unknown key id")
        try:
            verified = jwt.decode(token, key, algorithms=[header["alg"]])
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidToken(f"{type(error).__name__}: {error}") from None
        self._check_claims(trust, verified.claims)
        principal = _principal(verified.claims, trust.issuer)
        return _Verified(trust, kid, key, verified.claims, principal)
