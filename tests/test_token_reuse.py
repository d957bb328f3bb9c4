"""A token used again keeps its signature check only while the same key stands.

The validator remembers tokens it verified (clients reuse a token for its
fifteen minutes), so these tests swap and withdraw the issuer's keys under it
and let the clock pass its expiry: every guarantee of a first use must hold on
the hundredth.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jwt
from joserfc.jwk import OKPKey

import gateway.auth.validator as validator_module
from gateway.auth.validator import TOKEN_EXPIRED, AccessTokenValidator, InvalidToken, IssuerTrust
from tests.conftest import PUBLIC_URL, Gateway

ISSUER = "https://idp.example"
KID = "k1"
ME = "{ me { subject } }"


class SwappableKeys:
    """A key source whose key for ``KID`` the test replaces or withdraws."""

    def __init__(self, key: OKPKey | None) -> None:
        self.key = key

    async def get(self, kid: str) -> Any | None:
        return self.key if kid == KID else None


def _claims(*, exp_in: int = 300, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": PUBLIC_URL,
        "sub": "officer-9",
        "client_id": "app",
        "scope": "investigate",
        "iat": now,
        "exp": now + exp_in,
        "jti": "t1",
        "role": "officer",
        **overrides,
    }


def _token(key: OKPKey, *, exp_in: int = 300, **claims: object) -> str:
    header = {"alg": "Ed25519", "typ": "at+jwt", "kid": KID}
    return jwt.encode(header, _claims(exp_in=exp_in, **claims), key, algorithms=["Ed25519"])


def _new_key() -> OKPKey:
    return OKPKey.import_key(Ed25519PrivateKey.generate())


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature the validator checked, in order."""
    seen: list[str] = []
    real = validator_module.jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(validator_module.jwt, "decode", counting)
    return seen


def _validator(keys: SwappableKeys, **options: Any) -> AccessTokenValidator:
    return AccessTokenValidator([IssuerTrust(ISSUER, PUBLIC_URL, keys)], **options)


async def test_a_reused_token_is_verified_once(decodes: list[str]) -> None:
    key = _new_key()
    validator = _validator(SwappableKeys(key))
    token = _token(key)
    first = await validator.validate(token)
    again = await validator.validate(token)
    assert again == first
    assert first.subject == "officer-9"
    assert decodes == [token]


async def test_a_replaced_key_makes_the_token_verify_again(decodes: list[str]) -> None:
    old, new = _new_key(), _new_key()
    keys = SwappableKeys(old)
    validator = _validator(keys)
    token = _token(old)
    await validator.validate(token)
    # The issuer now publishes another key under the same kid: the old token's
    # signature no longer holds, however recently it was checked.
    keys.key = new
    with pytest.raises(InvalidToken):
        await validator.validate(token)
    assert decodes == [token, token]
    # The same key object again (the issuer re-published it) verifies afresh.
    keys.key = old
    assert (await validator.validate(token)).subject == "officer-9"
    assert decodes == [token, token, token]


async def test_a_withdrawn_key_refuses_the_token() -> None:
    key = _new_key()
    keys = SwappableKeys(key)
    validator = _validator(keys)
    token = _token(key)
    await validator.validate(token)
    keys.key = None
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(token)
    assert refused.value.reason == "unknown key id"


async def test_a_remembered_token_still_expires(
    monkeypatch: pytest.MonkeyPatch, decodes: list[str]
) -> None:
    key = _new_key()
    validator = _validator(SwappableKeys(key))
    token = _token(key, exp_in=10)
    await validator.validate(token)
    # Past expiry plus the leeway: the claims are checked on every use.
    later = time.time() + 10 + validator_module.LEEWAY_S + 5
    monkeypatch.setattr("joserfc._rfc7519.claims.time.time", lambda: later)
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(token)
    assert refused.value.description == TOKEN_EXPIRED
    # Forgotten once refused: a later use verifies the signature again.
    with pytest.raises(InvalidToken):
        await validator.validate(token)
    assert decodes == [token, token]


async def test_memory_is_bounded_least_recently_used_first(decodes: list[str]) -> None:
    key = _new_key()
    validator = _validator(SwappableKeys(key), remembered=2)
    tokens = [_token(key, jti=f"t{n}") for n in range(3)]
    await validator.validate(tokens[0])
    await validator.validate(tokens[1])
    await validator.validate(tokens[0])  # remembered, and now the most recent
    await validator.validate(tokens[2])  # takes tokens[1]'s place
    await validator.validate(tokens[0])  # still remembered
    await validator.validate(tokens[1])  # forgotten: verified again
    assert decodes == [tokens[0], tokens[1], tokens[2], tokens[1]]


async def test_a_token_refused_for_its_audience_is_never_remembered(decodes: list[str]) -> None:
    key = _new_key()
    validator = _validator(SwappableKeys(key))
    token = _token(key, aud="https://elsewhere.example")
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await validator.validate(token)
    assert decodes == [token, token]


async def test_through_http_a_reused_token_expires_on_time(gateway: Gateway) -> None:
    # Within the leeway now, past it two seconds later: the second use must fail
    # although the first one's signature check is remembered.
    key = gateway.services.keys.token_signing
    # Our own issuer this time: the gateway fixture trusts only it.
    claims = _claims(exp_in=-validator_module.LEEWAY_S + 1, iss=PUBLIC_URL, jti="j-reuse")
    header = {"alg": "Ed25519", "typ": "at+jwt", "kid": key.kid}
    token = jwt.encode(header, claims, key.jwk, algorithms=["Ed25519"])
    first = await gateway.graphql(token, ME)
    assert first.status_code == 200, first.text
    await asyncio.sleep(2.1)
    again = await gateway.graphql(token, ME)
    assert again.status_code == 401
    assert again.json()["errors"][0]["message"] == "The access token expired."
