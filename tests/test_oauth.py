"""The built-in issuer and the resource server, through real HTTP (RFC 6749, 9068, 8725)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from gateway.auth import scopes
from gateway.auth.principal import Role
from tests.conftest import PUBLIC_URL, Gateway

ME = "{ me { role subject } }"


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": PUBLIC_URL,
        "aud": PUBLIC_URL,
        "sub": "o-1",
        "client_id": "cg_x",
        "scope": "investigate",
        "iat": now,
        "exp": now + 300,
        "jti": "j1",
        "role": "officer",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(gateway: Gateway, claims: dict[str, Any], **header: Any) -> str:
    key = gateway.services.keys.token_signing
    full_header = {"alg": "Ed25519", "typ": "at+jwt", "kid": key.kid, **header}
    full_header = {k: v for k, v in full_header.items() if v is not None}
    return jwt.encode(full_header, claims, key.jwk, algorithms=["Ed25519"], default_type=None)


async def _assert_401(gateway: Gateway, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    response = await gateway.http.post("/graphql", json={"query": ME}, headers=headers)
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    if token is not None:
        assert 'error="invalid_token"' in challenge
    # Nothing that helps an attacker: one generic message whatever went wrong.
    assert response.json()["errors"][0]["message"] == "The access token is missing or invalid."


@pytest.fixture
def officer(gateway: Gateway) -> tuple[str, str]:
    return gateway.register(
        "officer",
        Role.OFFICER,
        {scopes.INVESTIGATE, scopes.CASES_READ},
        court_id="court-a",
        officer_id="o-1",
    )


async def test_token_through_authlib_client_basic_and_post(
    gateway: Gateway, officer: tuple[str, str]
) -> None:
    client_id, secret = officer
    for method in ("client_secret_basic", "client_secret_post"):
        async with AsyncOAuth2Client(
            client_id,
            secret,
            token_endpoint_auth_method=method,
            transport=httpx.ASGITransport(app=gateway.app),
            base_url=PUBLIC_URL,
        ) as client:
            token = await client.fetch_token(
                f"{PUBLIC_URL}/oauth/token", grant_type="client_credentials"
            )
            assert token["token_type"] == "Bearer"
            assert token["expires_in"] == 900
            assert token["scope"] == "cases:read investigate"
            response = await client.post(f"{PUBLIC_URL}/graphql", json={"query": ME})
            assert response.json()["data"]["me"] == {"role": "officer", "subject": "o-1"}


async def test_access_token_is_rfc9068(gateway: Gateway, officer: tuple[str, str]) -> None:
    token = await gateway.token(*officer, scope="investigate")
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "Ed25519"
    jwks = (await gateway.http.get("/.well-known/jwks.json")).json()
    key = OKPKey.import_key(jwks["keys"][0])
    assert header["kid"] == jwks["keys"][0]["kid"]
    claims = jwt.decode(token, key, algorithms=["Ed25519"]).claims
    assert claims["iss"] == PUBLIC_URL
    assert claims["aud"] == PUBLIC_URL
    assert claims["client_id"] == officer[0]
    assert claims["sub"] == "o-1"
    assert claims["scope"] == "investigate"
    assert claims["exp"] - claims["iat"] == 900
    assert set(claims) >= {"iat", "jti", "exp"}


async def test_metadata_rfc8414(gateway: Gateway) -> None:
    metadata = (await gateway.http.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["issuer"] == PUBLIC_URL
    assert metadata["token_endpoint"] == f"{PUBLIC_URL}/oauth/token"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert "investigate" in metadata["scopes_supported"]


async def test_wrong_secret_is_401_invalid_client(
    gateway: Gateway, officer: tuple[str, str]
) -> None:
    client_id, _ = officer
    basic = await gateway.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, "wrong")
    )
    assert basic.status_code == 401
    assert basic.json() == {
        "error": "invalid_client",
        "error_description": "The client credentials are wrong: unknown client id, wrong "
        "secret, or a disabled client.",
    }
    post = await gateway.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"},
    )
    assert post.status_code == 401
    assert post.json()["error"] == "invalid_client"
    unknown = await gateway.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("cg_nobody", "x")
    )
    assert unknown.status_code == 401
    # The same words for an unknown client: no telling which ids exist.
    assert unknown.json() == basic.json() == post.json()


async def test_unknown_grant_type_is_400(gateway: Gateway, officer: tuple[str, str]) -> None:
    response = await gateway.http.post(
        "/oauth/token", data={"grant_type": "password"}, auth=officer
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("scope", ["list:publish", "nonsense", "investigate audit:read"])
async def test_scope_not_allowed_is_400_invalid_scope(
    gateway: Gateway, officer: tuple[str, str], scope: str
) -> None:
    response = await gateway.http.post(
        "/oauth/token", data={"grant_type": "client_credentials", "scope": scope}, auth=officer
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_no_token_is_401(gateway: Gateway) -> None:
    await _assert_401(gateway, None)


async def test_malformed_token_is_401(gateway: Gateway) -> None:
    await _assert_401(gateway, "not-a-jwt")
    await _assert_401(gateway, "a.b.c")


async def test_expired_token_is_401_and_says_it_expired(gateway: Gateway) -> None:
    past = int(time.time()) - 3600
    token = _sign(gateway, _claims(iat=past - 900, exp=past))
    response = await gateway.graphql(token, ME)
    assert response.status_code == 401
    # RFC 6750 §3: the client learns to get a new token, not just "invalid".
    assert response.headers["www-authenticate"] == (
        'Bearer realm="credgate", error="invalid_token", '
        'error_description="the access token expired"'
    )
    assert response.json()["errors"][0]["message"] == "The access token expired."


async def test_expired_forgery_is_not_told_it_expired(gateway: Gateway) -> None:
    # Expiry is said only once the signature is verified.
    past = int(time.time()) - 3600
    forged = _sign(gateway, _claims(iat=past - 900, exp=past))
    header, payload, _ = forged.split(".")
    other = _sign(gateway, _claims())
    await _assert_401(gateway, f"{header}.{payload}.{other.split('.')[2]}")


async def test_expiry_within_leeway_is_accepted(gateway: Gateway) -> None:
    now = int(time.time())
    token = _sign(gateway, _claims(iat=now - 900, exp=now - 30))
    response = await gateway.graphql(token, ME)
    assert response.status_code == 200


async def test_not_yet_valid_token_is_401(gateway: Gateway) -> None:
    future = int(time.time()) + 600
    await _assert_401(gateway, _sign(gateway, _claims(nbf=future)))


async def test_alg_none_is_401(gateway: Gateway) -> None:
    token = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(_claims())}."
    await _assert_401(gateway, token)


async def test_hs256_signed_with_public_key_is_401(gateway: Gateway) -> None:
    public = gateway.services.keys.token_signing.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "at+jwt", "kid": gateway.services.keys.token_signing.kid}
    signing_input = f"{_b64(header)}.{_b64(_claims())}"
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    await _assert_401(gateway, token)


async def test_unknown_key_is_401(gateway: Gateway) -> None:
    stranger = OKPKey.import_key(Ed25519PrivateKey.generate())
    header = {"alg": "Ed25519", "typ": "at+jwt", "kid": stranger.thumbprint()}
    await _assert_401(gateway, jwt.encode(header, _claims(), stranger, algorithms=["Ed25519"]))
    # Same kid as ours but another key: the signature check fails.
    header["kid"] = gateway.services.keys.token_signing.kid
    await _assert_401(gateway, jwt.encode(header, _claims(), stranger, algorithms=["Ed25519"]))


async def test_embedded_jwk_is_not_trusted(gateway: Gateway) -> None:
    stranger = OKPKey.import_key(Ed25519PrivateKey.generate())
    header = {
        "alg": "Ed25519",
        "typ": "at+jwt",
        "kid": stranger.thumbprint(),
        "jwk": stranger.as_dict(private=False),
    }
    await _assert_401(gateway, jwt.encode(header, _claims(), stranger, algorithms=["Ed25519"]))


async def test_wrong_issuer_is_401(gateway: Gateway) -> None:
    await _assert_401(gateway, _sign(gateway, _claims(iss="https://evil.example")))


async def test_wrong_audience_is_401(gateway: Gateway) -> None:
    await _assert_401(gateway, _sign(gateway, _claims(aud="https://other-api.example")))


@pytest.mark.parametrize("typ", [None, "JWT", "id+jwt"])
async def test_missing_or_wrong_typ_is_401(gateway: Gateway, typ: str | None) -> None:
    await _assert_401(gateway, _sign(gateway, _claims(), typ=typ))
