"""Agency kinds named in the gateway's configuration: an agency's own kind, loaded at start-up.

A kind is one declarative unit, an :class:`~connectors.catalog.AgencyKindSpec`
(its datasets, their fields and GraphQL shape, and its connector's import path).
The built-in kinds are always registered; an agency brings its own by naming the
declaration in ``credgate.toml``::

    [kinds]
    land_reclamation = "acme_credgate.land:KIND"   # package.module:NAME

    [agencies.land-jiaozuo]
    kind = "land_reclamation"
    name = "焦作市土地整理中心"
    url = "https://connector.land.example"
    public_key = "keys/agencies/land-jiaozuo.pub.pem"

The gateway imports only the declaration (to plan, decide and shape); the
connector class it names runs at the agency (``credgate connector serve
land_reclamation --kind-spec acme_credgate.land:KIND``). Kinds come from an
explicit list rather than from package entry points: the set of kinds decides
what the gateway may ask agencies and which policy files apply, so installing a
package must never widen it by itself.
"""

from __future__ import annotations

from connectors.catalog import AgencyKindSpec, load_kind
from gateway.errors import ConfigError
from gateway.settings import Settings

__all__ = ["load_configured_kinds"]


def load_configured_kinds(settings: Settings) -> tuple[AgencyKindSpec, ...]:
    """Register every kind of the ``[kinds]`` table (again is a no-op).

    Raises:
        ConfigError: a value is not ``package.module:NAME``, does not import, is not
            an AgencyKindSpec, declares another name than its key, or clashes with a
            registered kind.
    """
    where = settings.config_file or "environment"
    loaded = []
    for name, path in settings.section("kinds").items():
        if not isinstance(path, str):
            raise ConfigError(where, f"kinds.{name} must be a string 'package.module:NAME'")
        try:
            loaded.append(load_kind(path, str(name)))
        except ValueError as error:
            raise ConfigError(where, f"kinds.{name}: {error}") from None
    return tuple(loaded)
