"""Agencies reached over signed HTTP: their settings and their RemoteConnectors.

An ``[agencies.<id>]`` table with a ``url`` makes that agency remote::

    [agencies.bank-icbc]
    kind = "bank"
    name = "中国工商银行焦作分行"
    url = "https://connector.icbc.example"          # http only on loopback
    public_key = "keys/agencies/bank-icbc.pub.pem"  # the agency's key, from its keygen
    deadline_s = 5        # sent to the agency, enforced on both sides
    retries = 2           # extra attempts after connection errors only
    failure_threshold = 5 # consecutive failed fetches that open the circuit
    recovery_s = 30       # how long the circuit stays open before a probe

Requests are signed with the gateway's ``gateway-signing`` key; agencies get its
public half from ``credgate connector gateway-key``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.remote import RemoteAgency, RemoteConnector
from connectors.sdk import AgencyIdentity
from connectors.signing import MessageKey, TrustedKeys, load_public_key
from gateway.errors import ConfigError
from gateway.keys import load_signing_key
from gateway.settings import Settings

__all__ = ["REMOTE_KEYS", "RemoteSettings", "parse_remote", "remote_connector"]

REMOTE_KEYS = frozenset({"url", "public_key", "retries", "failure_threshold", "recovery_s"})
"""The keys of an ``[agencies.<id>]`` table that only remote agencies have."""

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class RemoteSettings:
    """How to reach one remote agency (``deadline_s`` stays in the agency's config)."""

    url: str
    public_key: Path
    retries: int = 2
    failure_threshold: int = 5
    recovery_s: float = 30.0


def parse_remote(
    agency_id: str, raw: Mapping[str, Any], settings: Settings
) -> RemoteSettings | None:
    """The remote settings of an agency table; ``None`` when it has no ``url``.

    Raises:
        ConfigError: a missing public key, a non-https URL off loopback, or a bad number.
    """
    where: Path | str = settings.config_file or "environment"
    if "url" not in raw:
        stray = sorted(REMOTE_KEYS & set(raw))
        if stray:
            raise ConfigError(where, f"agencies.{agency_id}: {stray} need a url")
        return None
    url = raw["url"]
    parts = urlsplit(url) if isinstance(url, str) else None
    # The messages are signed, not encrypted: personal data crosses the network
    # only inside TLS, as access tokens do (RFC 9700 §2.6); plain http on loopback.
    if parts is None or not (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    ):
        raise ConfigError(where, f"agencies.{agency_id}.url must be https (or http on loopback)")
    key = raw.get("public_key")
    if not isinstance(key, str):
        raise ConfigError(where, f"agencies.{agency_id}.public_key must name the agency's key file")
    base = settings.config_file.parent if settings.config_file else settings.data_dir
    return RemoteSettings(
        url=url,
        public_key=Path(key) if Path(key).is_absolute() else base / key,
        retries=_number(raw, "retries", 2, agency_id, where, int_only=True),
        failure_threshold=_number(raw, "failure_threshold", 5, agency_id, where, int_only=True),
        recovery_s=float(_number(raw, "recovery_s", 30.0, agency_id, where)),
    )


def _number(
    raw: Mapping[str, Any],
    key: str,
    default: float,
    agency_id: str,
    where: Path | str,
    *,
    int_only: bool = False,
) -> Any:
    value: object = raw.get(key, default)
    valid = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
    if not valid or (int_only and not isinstance(value, int)):
        kind = "a whole number" if int_only else "a number"
        raise ConfigError(where, f"agencies.{agency_id}.{key} must be {kind} >= 0")
    return value


def remote_connector(
    identity: AgencyIdentity, remote: RemoteSettings, deadline_s: float, settings: Settings
) -> RemoteConnector:
    """A RemoteConnector for a configured agency, signing with the gateway key.

    Raises:
        ConfigError: the agency's public key or the gateway's signing key is unusable.
    """
    try:
        agency_key = load_public_key(remote.public_key)
    except ValueError as error:
        reason = str(error).removeprefix(f"{remote.public_key}: ")
        raise ConfigError(remote.public_key, reason) from None
    gateway_key = load_signing_key(settings.keys_dir / "gateway-signing.pem")
    agency = RemoteAgency(
        identity=identity,
        url=remote.url,
        agency_keys=TrustedKeys([agency_key]),
        deadline_s=deadline_s,
        retries=remote.retries,
        failure_threshold=max(1, remote.failure_threshold),
        recovery_s=remote.recovery_s or 30.0,
    )
    return RemoteConnector(agency, MessageKey.of(gateway_key.private_key))
