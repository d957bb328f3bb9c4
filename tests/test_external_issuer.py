"""An external issuer: JWKS fetched over HTTP from a real server on 127.0.0.1, cached,
and refreshed once when a token names an unknown key id."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

from gateway.app import create_app
from tests.conftest import PUBLIC_URL, prepare_deployment

ISSUER = "https://idp.court.example"


class FakeIdentityProvider:
    """An OIDC provider's JWKS endpoint whose keys the test can rotate."""

    def __init__(self) -> None:
        self.keys = [OKPKey.import_key(Ed25519PrivateKey.generate())]
        self.fetches = 0

    async def jwks(self, _: web.Request) -> web.Response:
        self.fetches += 1
        keys = []
        for key in self.keys:
            public = dict(key.as_dict(private=False))
            public["kid"] = key.thumbprint()
            keys.append(public)
        return web.json_response({"keys": keys})

    def token(self, key: OKPKey, **claims: object) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": PUBLIC_URL,
            "sub": "officer-9",
            "client_id": "ext-app",
            "scope": "investigate",
            "iat": now,
            "exp": now + 300,
            "jti": "x1",
            "role": "officer",
            "court_id": "court-b",
            "officer_id": "officer-9",
            **claims,
        }
        header = {"alg": "Ed25519", "typ": "at+jwt", "kid": key.thumbprint()}
        return jwt.encode(header, body, key, algorithms=["Ed25519"])


@pytest.fixture
async def provider() -> AsyncIterator[tuple[FakeIdentityProvider, str]]:
    idp = FakeIdentityProvider()
    app = web.Application()
    app.router.add_get("/jwks.json", idp.jwks)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield idp, str(server.make_url("/jwks.json"))
    finally:
        await server.close()


async def test_external_issuer_tokens_and_key_rotation(
    tmp_path: Path, sqlite_url: str, provider: tuple[FakeIdentityProvider, str]
) -> None:
    idp, jwks_url = provider
    config = f'[auth]\ntrusted_issuers = [{{ issuer = "{ISSUER}", jwks_url = "{jwks_url}" }}]\n'
    settings = prepare_deployment(tmp_path / "data", sqlite_url, config)
    app = create_app(settings)
    query = {"query": "{ me { subject courtId issuer } }"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http,
    ):

        async def ask(token: str) -> httpx.Response:
            return await http.post(
                "/graphql", json=query, headers={"Authorization": f"Bearer {token}"}
            )

        first = await ask(idp.token(idp.keys[0]))
        assert first.status_code == 200, first.text
        assert first.json()["data"]["me"] == {
            "subject": "officer-9",
            "courtId": "court-b",
            "issuer": ISSUER,
        }
        await ask(idp.token(idp.keys[0]))
        assert idp.fetches == 1  # cached

        # The provider rotates its key: the unknown kid triggers one refresh.
        idp.keys.append(OKPKey.import_key(Ed25519PrivateKey.generate()))
        rotated = await ask(idp.token(idp.keys[1]))
        assert rotated.status_code == 200
        assert idp.fetches == 2

        # A token from a key the provider never published: refused, and the
        # refresh is rate-limited so random kids cannot hammer the provider.
        stranger = OKPKey.import_key(Ed25519PrivateKey.generate())
        for _ in range(3):
            assert (await ask(idp.token(stranger))).status_code == 401
        assert idp.fetches == 2

        # A token whose issuer claims the external issuer but with our audience wrong.
        wrong_aud = await ask(idp.token(idp.keys[0], aud="https://elsewhere.example"))
        assert wrong_aud.status_code == 401
