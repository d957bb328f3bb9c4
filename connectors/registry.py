"""Build the connector of an agency from its kind's declaration.

Each :class:`~connectors.catalog.AgencyKindSpec` names its connector class by
import path; this module imports it where the connector runs (in-process demo
agencies, ``credgate connector serve``) and builds it as
``Class(identity, database_url)``. A kind whose datasets declare an asset class
takes control measures: its connector class binds those assets to its tables
(``asset_bindings``, beside its adapter), and :func:`build_controlled` adds the
measures ledger.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.catalog import KINDS
from connectors.control_ledger import AssetBinding, ControlledConnector, MeasureLedger
from connectors.sdk import AgencyIdentity, Connector

__all__ = ["asset_bindings", "build_connector", "build_controlled", "takes_measures"]


def takes_measures(kind: str) -> bool:
    """Whether agencies of ``kind`` execute control measures (a dataset declares an asset class).

    Raises:
        UnknownAgencyKind: ``kind`` is not registered.
    """
    return bool(KINDS.get(kind).controlled)


def asset_bindings(kind: str) -> Mapping[str, AssetBinding]:
    """How the connector of ``kind`` holds the assets of its controllable datasets.

    Raises:
        UnknownAgencyKind: ``kind`` is not registered.
        ValueError: the kind takes no measures, or its connector class does not bind
            exactly the datasets the kind declares controllable.
    """
    spec = KINDS.get(kind)
    declared = set(spec.controlled)
    if not declared:
        raise ValueError(f"agencies of kind {kind!r} take no control measures")
    bound: Mapping[str, AssetBinding] = getattr(spec.connector_class(), "asset_bindings", {})
    if set(bound) != declared:
        raise ValueError(
            f"{spec.connector}.asset_bindings binds {sorted(bound)}; "
            f"the kind declares {sorted(declared)} controllable"
        )
    return bound


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
        UnknownAgencyKind: ``kind`` is not registered.
        ValueError: the kind takes no measures, its bindings do not match its
            declaration, or ``identity.kind`` is not ``kind``.
    """
    bindings = asset_bindings(kind)
    connector = build_connector(kind, identity, database_url)
    return ControlledConnector(
        connector, MeasureLedger(identity, database_url, ledger_url, bindings)
    )
