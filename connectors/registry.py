"""The connector class for each agency kind, and a factory.

A plain dict binds kinds to classes; third-party connectors would come in
through entry points, which the demo does not need.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from connectors.bank import BankConnector
from connectors.bank.adapter import ASSETS as BANK_ASSETS
from connectors.civil_affairs import CivilAffairsConnector
from connectors.control_ledger import AssetBinding, ControlledConnector, MeasureLedger
from connectors.public_security import PublicSecurityConnector
from connectors.sdk import AgencyIdentity
from connectors.sql import SqlConnector
from connectors.tax import TaxConnector

__all__ = ["ASSET_BINDINGS", "CONNECTOR_CLASSES", "build_connector", "build_controlled"]

CONNECTOR_CLASSES: Mapping[str, type[SqlConnector]] = MappingProxyType(
    {
        "bank": BankConnector,
        "tax": TaxConnector,
        "civil_affairs": CivilAffairsConnector,
        "public_security": PublicSecurityConnector,
    }
)
"""Agency kind to the class of its SQL connector."""

ASSET_BINDINGS: Mapping[str, Mapping[str, AssetBinding]] = MappingProxyType({"bank": BANK_ASSETS})
"""Agency kind to how its tables hold the assets measures act on (kinds that take measures)."""


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


def build_controlled(
    kind: str, identity: AgencyIdentity, database_url: str, ledger_url: str
) -> ControlledConnector:
    """A connector that also executes control measures, its ledger at ``ledger_url``.

    Raises:
        KeyError: no connector class, or no asset bindings, for ``kind``.
        ValueError: ``identity.kind`` is not ``kind``.
    """
    bindings = ASSET_BINDINGS.get(kind)
    if bindings is None:
        raise KeyError(f"agencies of kind {kind!r} take no control measures")
    connector = build_connector(kind, identity, database_url)
    return ControlledConnector(
        connector, MeasureLedger(identity, database_url, ledger_url, bindings)
    )
