"""JWKS sources per issuer: the built-in issuer's own keys, or an external issuer's URL.

RFC 8725 §3.10 and RFC 9068 §4: the key that verifies a token comes from the
issuer's configured JWKS, never from the token itself (``jwk``/``jku``/``x5u``
headers are ignored).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import aiohttp
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.errors import ServiceUnavailable


class KeySource(Protocol):
    """Where the verification keys of one issuer come from."""

    async def get(self, kid: str) -> Any | None:
        """The key with this ``kid``, or ``None`` if the issuer has none."""
        ...


class StaticKeySource:
    """The built-in issuer's keys, known at start-up."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self._keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    async def get(self, kid: str) -> Any | None:
        """The key with this ``kid``, or ``None``."""
        try:
            return self._keys.get_by_kid(kid)
        except (ValueError, JoseError):
            return None


class RemoteKeySource:
    """An external issuer's JWKS, fetched, cached for ``ttl_s``, refreshed on an unknown kid.

    A key rotation at the issuer is picked up by the first token naming the new
    kid. Such forced refreshes happen at most once per ``min_refresh_s``, so
    tokens with random ``kid`` values cannot make the gateway hammer the issuer.
    """

    def __init__(self, jwks_url: str, *, ttl_s: float = 3600, min_refresh_s: float = 30) -> None:
        self._url = jwks_url
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_s
        self._keys: KeySet | None = None
        self._fetched_at = -float("inf")
        self._last_forced = -float("inf")
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        timeout = aiohttp.ClientTimeout(total=5)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(self._url) as response,
            ):
                response.raise_for_status()
                document = await response.json(content_type=None)
            self._keys = KeySet.import_key_set(document)
        except (aiohttp.ClientError, TimeoutError, ValueError, JoseError) as error:
            if self._keys is None:
                raise ServiceUnavailable("The token issuer's keys cannot be fetched.") from error
        finally:
            self._fetched_at = time.monotonic()

    def _lookup(self, kid: str) -> Any | None:
        if self._keys is None:
            return None
        try:
            return self._keys.get_by_kid(kid)
        except (ValueError, JoseError):
            return None

    async def get(self, kid: str) -> Any | None:
        """The key with this ``kid``; an unknown kid forces at most one refresh per interval."""
        if time.monotonic() - self._fetched_at >= self._ttl_s:
            async with self._lock:
                if time.monotonic() - self._fetched_at >= self._ttl_s:
                    await self._refresh()
        key = self._lookup(kid)
        if key is not None:
            return key
        async with self._lock:
            key = self._lookup(kid)
            if key is None and time.monotonic() - self._last_forced >= self._min_refresh_s:
                self._last_forced = time.monotonic()
                await self._refresh()
                key = self._lookup(kid)
        return key
