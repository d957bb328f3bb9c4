"""The connector class for each agency kind, and a factory.

A plain dict binds kinds to classes; third-party connectors would come in
through entry points, which the demo does not need.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from connectors.bank import BankConnector
from connectors.civil_affairs import CivilAffairsConnector
from connectors.public_security import PublicSecurityConnector
from connectors.sdk import AgencyIdentity
from connectors.sql import SqlConnector
from connectors.tax import TaxConnector

__all__ = ["CONNECTOR_CLASSES", "build_connector"]

CONNECTOR_CLASSES: Mapping[str, type[SqlConnector]] = MappingProxyType(
    {
        "bank": BankConnector,
        "tax": TaxConnector,
        "civil_affairs": CivilAffairsConnector,
        "public_security": PublicSecurityConnector,
    }
)
"""Agency kind to the class of its SQL connector."""


def build_connector(kind: str, identity: AgencyIdentity, database_url: str) -> SqlConnector:
    """A connector for an agency of ``kind`` over the database at ``database_url``.

    Raises:
        KeyError: no connector class for ``kind``.
        ValueError: ``identity.kind`` is not ``kind``.
    """
    try:
        connector_class = CONNECTOR_CLASSES[kind]
    except KeyError:
        raise KeyError(f"no connector for agency kind {kind!r}") from None
    if identity.kind != kind:
        raise ValueError(f"identity {identity.id} is of kind {identity.kind}, not {kind}")
    return connector_class(identity, database_url)
