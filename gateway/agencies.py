"""The agencies the gateway asks: one Connector per agency id, built once at start-up.

Configuration lives in ``credgate.toml``, one table per agency::

    [agencies.bank-icbc]
    deadline_s = 3          # how long the gateway waits for this agency (default 5)
    kind = "bank"           # needed for agencies that are not demo agencies
    name = "中国工商银行焦作分行"
    database_url = "sqlite:///..."   # an in-process SQL connector over this database
    measures_url = "sqlite:///..."   # its control-measure ledger (agencies that take measures)

The embedded default needs no configuration: every demo agency whose SQLite
file exists under ``DATA_DIR/agencies/`` (written by the demo seeding) is
served in-process, read-only; a demo bank keeps its control-measure ledger in
``DATA_DIR/agencies/<id>.measures.sqlite`` beside it. Construction is in
:func:`_connector_for`, keyed
by configuration, so other transports plug in there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from connectors.catalog import KINDS
from connectors.demo import DEMO_AGENCIES
from connectors.registry import build_connector, build_controlled, takes_measures
from connectors.sdk import AgencyIdentity, Connector
from connectors.sql import read_only_sqlite_url
from gateway.errors import ConfigError
from gateway.remote_agencies import REMOTE_KEYS, RemoteSettings, parse_remote, remote_connector
from gateway.settings import Settings

__all__ = [
    "DEFAULT_DEADLINE_S",
    "AgencyConfig",
    "AgencyRegistry",
    "RegisteredAgency",
    "agency_configs",
    "build_agency_registry",
]

DEFAULT_DEADLINE_S = 5.0
_MAX_DEADLINE_S = 120.0
_KEYS = frozenset({"deadline_s", "kind", "name", "database_url", "measures_url"}) | REMOTE_KEYS
# A remote connector enforces the deadline itself (and reports AgencyTimeout, counted
# by its circuit breaker); the fan-out's own timeout is a backstop just after it.
_REMOTE_GRACE_S = 0.25


@dataclass(frozen=True)
class AgencyConfig:
    """One ``[agencies.<id>]`` table, with defaults filled in."""

    id: str
    deadline_s: float = DEFAULT_DEADLINE_S
    kind: str | None = None
    name: str | None = None
    database_url: str | None = None
    measures_url: str | None = None
    remote: RemoteSettings | None = None  # set when the table has a url


@dataclass(frozen=True)
class RegisteredAgency:
    """A connector the gateway may ask, and how long it waits for it."""

    connector: Connector
    deadline_s: float = DEFAULT_DEADLINE_S

    @property
    def identity(self) -> AgencyIdentity:
        """The agency's identity, from its connector."""
        return self.connector.identity


class AgencyRegistry:
    """The configured agencies by id, in a stable order (configuration order)."""

    def __init__(self, agencies: Iterable[RegisteredAgency] = ()) -> None:
        self._agencies: dict[str, RegisteredAgency] = {}
        for agency in agencies:
            if agency.identity.id in self._agencies:
                raise ValueError(f"agency {agency.identity.id} is registered twice")
            self._agencies[agency.identity.id] = agency

    def __iter__(self) -> Iterator[RegisteredAgency]:
        return iter(self._agencies.values())

    def __len__(self) -> int:
        return len(self._agencies)

    def get(self, agency_id: str) -> RegisteredAgency:
        """The agency with this id; ``KeyError`` if none is configured."""
        return self._agencies[agency_id]

    def serving(self, dataset: str) -> list[RegisteredAgency]:
        """The agencies whose connectors serve ``dataset``."""
        return [a for a in self._agencies.values() if dataset in a.connector.datasets]

    def replacing(
        self,
        agency_id: str,
        connector: Connector | None = None,
        deadline_s: float | None = None,
    ) -> AgencyRegistry:
        """A copy with one agency's connector or deadline replaced (wrappers, tests)."""
        current = self.get(agency_id)
        changed = replace(
            current,
            connector=connector or current.connector,
            deadline_s=current.deadline_s if deadline_s is None else deadline_s,
        )
        return AgencyRegistry(changed if a is current else a for a in self)

    async def aclose(self) -> None:
        """Release the connectors' resources (database pools, HTTP sessions)."""
        for agency in self:
            close = getattr(agency.connector, "aclose", None)
            if close is not None:
                await close()


def agency_configs(settings: Settings) -> list[AgencyConfig]:
    """Parse the ``[agencies.*]`` tables of the config file.

    Raises:
        ConfigError: an unknown key, or a value of the wrong type or range.
    """
    where = settings.config_file or "environment"
    configs = []
    for agency_id, raw in settings.section("agencies").items():
        if not isinstance(raw, Mapping):
            raise ConfigError(where, f"[agencies.{agency_id}] must be a table")
        unknown = set(raw) - _KEYS
        if unknown:
            raise ConfigError(where, f"[agencies.{agency_id}] has unknown keys {sorted(unknown)}")
        deadline = raw.get("deadline_s", DEFAULT_DEADLINE_S)
        if isinstance(deadline, bool) or not isinstance(deadline, int | float):
            raise ConfigError(where, f"agencies.{agency_id}.deadline_s must be a number")
        if not 0 < deadline <= _MAX_DEADLINE_S:
            raise ConfigError(
                where, f"agencies.{agency_id}.deadline_s must be in (0, {_MAX_DEADLINE_S:g}]"
            )
        kind = _optional_str(raw, "kind", agency_id, where)
        if kind is not None and kind not in KINDS:
            known = ", ".join(sorted(KINDS.names()))
            raise ConfigError(
                where,
                f"agencies.{agency_id}.kind {kind!r} is not a known agency kind ({known}); "
                "an agency's own kind is declared under [kinds]",
            )
        configs.append(
            AgencyConfig(
                id=str(agency_id),
                deadline_s=float(deadline),
                kind=kind,
                name=_optional_str(raw, "name", agency_id, where),
                database_url=_optional_str(raw, "database_url", agency_id, where),
                measures_url=_optional_str(raw, "measures_url", agency_id, where),
                remote=parse_remote(str(agency_id), raw, settings),
            )
        )
    return configs


def build_agency_registry(settings: Settings) -> AgencyRegistry:
    """The connectors of every configured agency, plus the seeded demo agencies.

    Raises:
        ConfigError: a configured agency lacks what its connector needs.
    """
    configs = {config.id: config for config in agency_configs(settings)}
    demo = {identity.id: identity for identity in DEMO_AGENCIES}
    agencies = []
    for agency_id in [*demo, *(i for i in configs if i not in demo)]:
        config = configs.get(agency_id, AgencyConfig(agency_id))
        connector = _connector_for(config, demo.get(agency_id), settings)
        if connector is not None:
            grace = _REMOTE_GRACE_S if config.remote is not None else 0.0
            agencies.append(RegisteredAgency(connector, config.deadline_s + grace))
    return AgencyRegistry(agencies)


def _connector_for(
    config: AgencyConfig, demo: AgencyIdentity | None, settings: Settings
) -> Connector | None:
    """The connector a configuration asks for; ``None`` for an unseeded demo agency."""
    where = settings.config_file or "environment"
    kind = config.kind or (demo.kind if demo else None)
    name = config.name or (demo.name if demo else None)
    if kind is None or name is None:
        raise ConfigError(where, f"[agencies.{config.id}] needs kind and name")
    identity = AgencyIdentity(config.id, kind, name)
    if config.remote is not None:
        return remote_connector(identity, config.remote, config.deadline_s, settings)
    url = config.database_url
    ledger = config.measures_url
    if url is None:
        path = settings.data_dir / "agencies" / f"{config.id}.sqlite"
        if demo is None:
            raise ConfigError(where, f"[agencies.{config.id}] needs database_url")
        if not path.is_file():
            return None
        url = read_only_sqlite_url(path)
        # The agency's own tables stay read-only; its measures ledger sits beside them.
        ledger = ledger or f"sqlite:///{path.with_suffix('.measures.sqlite')}"
    try:
        if ledger is not None and takes_measures(kind):
            return build_controlled(kind, identity, url, ledger)
        return build_connector(kind, identity, url)
    except ValueError as error:
        raise ConfigError(where, f"[agencies.{config.id}]: {error}") from None


def _optional_str(raw: Mapping[str, Any], key: str, agency_id: str, where: object) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(str(where), f"agencies.{agency_id}.{key} must be a string")
    return value
