"""Build the connector of an agency from its kind's declaration.

Each :class:`~connectors.catalog.AgencyKindSpec` names its connector class by
import path; this module imports it where the connector runs (in-process demo
agencies, ``credgate connector serve``) and builds it as
``Class(identity, database_url)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from connectors.bank.adapter import ASSETS as BANK_ASSETS
from connectors.catalog import KINDS
from connectors.control_ledger import AssetBinding, ControlledConnector, MeasureLedger
from connectors.sdk import AgencyIdentity, Connector

__all__ = ["ASSET_BINDINGS", "build_connector", "build_controlled"]

ASSET_BINDINGS: Mapping[str, Mapping[str, AssetBinding]] = MappingProxyType({"bank": BANK_ASSETS})
"""Agency kind to how its tables hold the assets measures act on (kinds that take measures)."""


def build_connector(kind: str, identity: AgencyIdentity, database_url: str) -> Connector:
    """A connector for an agency of ``kind`` over the database at ``database_url``.

    Raises:
        UnknownAgencyKind: ``kind`` is not registered.
        ValueError: ``identity.kind`` is not ``kind``, or the kind's connector class
            does not import or is not a Connector.
    """
    spec = KINDS.get(kind)
    if identity.kind != kind:
        raise ValueError(f"identity {identity.id} is of kind {identity.kind}, not {kind}")
    connector = spec.connector_class()(identity, database_url)
    if not isinstance(connector, Connector):
        raise ValueError(f"{spec.connector} does not implement the Connector protocol")
    return connector


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
