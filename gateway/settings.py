"""Typed settings from ``credgate.toml`` and ``CREDGATE_*`` environment variables.

Precedence: environment over file over defaults. A data directory gives every
path a default, so ``--data-dir DIR`` alone is enough to point a command at a
deployment.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gateway.errors import ConfigError

DEFAULT_DATA_DIR = Path(".credgate-demo")


@dataclass(frozen=True)
class TrustedIssuer:
    """An external OAuth/OIDC issuer whose access tokens the gateway accepts."""

    issuer: str
    jwks_url: str
    audience: str | None = None


@dataclass(frozen=True)
class GraphQLLimits:
    """Operation limits, from graphql-armor's defaults tuned to this schema.

    Depth 8: the deepest legitimate selection is
    ``investigation > household > members > name`` (4) plus connection wrappers
    in the audit API (``auditEvents > edges > node > fields > ...``); 8 leaves
    headroom without allowing recursive abuse. Aliases 15 and tokens 1000 are
    graphql-armor's defaults and fit every query the clients send.
    """

    max_depth: int = 8
    max_aliases: int = 15
    max_tokens: int = 1000
    introspection: bool = False
    ide: bool = False
    field_suggestions: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything the gateway process needs to know at start-up."""

    data_dir: Path
    database_url: str
    keys_dir: Path
    public_url: str
    issuer: str
    audience: str
    token_lifetime_s: int = 900
    builtin_issuer: bool = True
    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    graphql: GraphQLLimits = field(default_factory=GraphQLLimits)
    max_body_bytes: int = 1_048_576
    log_level: str = "info"
    config_file: Path | None = None
    # Sections owned by other parts (agencies, policies ...), parsed by them.
    sections: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        """A raw section of the config file, for the part that owns it."""
        value = self.sections.get(name, {})
        return value if isinstance(value, Mapping) else {}


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(path, "config file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, f"not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(path, f"cannot read: {error.strerror}") from None


def _expect(value: object, kind: type, path: Path | None, key: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(path or "environment", f"'{key}' must be a {kind.__name__}")
    return value


def _limits(raw: Mapping[str, Any], path: Path | None) -> GraphQLLimits:
    defaults = GraphQLLimits()
    values: dict[str, Any] = {}
    for name in GraphQLLimits.__dataclass_fields__:
        if name in raw:
            kind = type(getattr(defaults, name))
            values[name] = _expect(raw[name], kind, path, f"graphql.{name}")
    unknown = set(raw) - set(GraphQLLimits.__dataclass_fields__)
    if unknown:
        raise ConfigError(path or "environment", f"unknown graphql settings: {sorted(unknown)}")
    return GraphQLLimits(**values)


def _issuers(raw: object, path: Path | None) -> tuple[TrustedIssuer, ...]:
    issuers = []
    for index, item in enumerate(_expect(raw, list, path, "auth.trusted_issuers")):
        entry = _expect(item, dict, path, f"auth.trusted_issuers[{index}]")
        try:
            issuers.append(
                TrustedIssuer(
                    issuer=str(entry["issuer"]),
                    jwks_url=str(entry["jwks_url"]),
                    audience=str(entry["audience"]) if "audience" in entry else None,
                )
            )
        except KeyError as missing:
            raise ConfigError(
                path or "environment", f"auth.trusted_issuers[{index}] lacks {missing}"
            ) from None
    return tuple(issuers)


def _check_public_url(url: str, path: Path | None) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    # RFC 9700 §2.6 / RFC 6749 §3.1.2.1: tokens travel over TLS; plain http is
    # allowed only on the loopback interface (the embedded demo, tests).
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return
    raise ConfigError(
        path or "environment", f"public_url {url!r} must be https (or http on loopback)"
    )


def load_settings(
    config: Path | None = None,
    data_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings from a config file, a data directory and the environment.

    Raises:
        ConfigError: the file is missing, not TOML, or holds a value of the wrong type.
    """
    env = os.environ if env is None else env
    if config is None and data_dir is not None and (data_dir / "credgate.toml").is_file():
        # A data directory may carry its own config (the demo writes one), so
        # `--data-dir DIR` alone points a command at the whole deployment.
        config = data_dir / "credgate.toml"
    raw: dict[str, Any] = _read_toml(config) if config is not None else {}
    base = config.parent if config is not None else Path.cwd()

    def path_setting(value: str | None, default: Path) -> Path:
        if value is None:
            return default
        candidate = Path(value)
        return candidate if candidate.is_absolute() else base / candidate

    gateway_raw = _expect(raw.get("gateway", {}), dict, config, "gateway")
    auth_raw = _expect(raw.get("auth", {}), dict, config, "auth")
    dir_value = env.get("CREDGATE_DATA_DIR") or gateway_raw.get("data_dir")
    resolved_dir = data_dir or path_setting(
        dir_value, config.parent if config else DEFAULT_DATA_DIR
    )
    resolved_dir = resolved_dir.absolute()

    public_url = str(
        env.get("CREDGATE_PUBLIC_URL") or gateway_raw.get("public_url") or "http://127.0.0.1:8000"
    ).rstrip("/")
    _check_public_url(public_url, config)
    database_url = str(
        env.get("CREDGATE_DATABASE_URL")
        or gateway_raw.get("database_url")
        or f"sqlite:///{resolved_dir / 'credgate.sqlite'}"
    )
    keys_dir = path_setting(gateway_raw.get("keys_dir"), resolved_dir / "keys")
    lifetime = _expect(auth_raw.get("token_lifetime_s", 900), int, config, "auth.token_lifetime_s")
    if not 30 <= lifetime <= 86_400:
        raise ConfigError(config or "environment", "auth.token_lifetime_s must be 30..86400")
    max_body = _expect(
        gateway_raw.get("max_body_bytes", 1_048_576), int, config, "gateway.max_body_bytes"
    )
    return Settings(
        data_dir=resolved_dir,
        database_url=database_url,
        keys_dir=keys_dir,
        public_url=public_url,
        issuer=str(auth_raw.get("issuer", public_url)),
        audience=str(auth_raw.get("audience", public_url)),
        token_lifetime_s=lifetime,
        builtin_issuer=bool(auth_raw.get("builtin_issuer", True)),
        trusted_issuers=_issuers(auth_raw.get("trusted_issuers", []), config),
        graphql=_limits(_expect(raw.get("graphql", {}), dict, config, "graphql"), config),
        max_body_bytes=max_body,
        log_level=str(env.get("CREDGATE_LOG_LEVEL") or gateway_raw.get("log_level", "info")),
        config_file=config,
        sections=raw,
    )
