"""Build the connector of an agency from its kind's declaration.

Each :class:`~connectors.catalog.AgencyKindSpec` names its connector class by
import path; this module imports it where the connector runs (in-process demo
agencies, ``credgate connector serve``) and builds it as
``Class(identity, database_url)``.
"""

from __future__ import annotations

from connectors.catalog import KINDS
from connectors.sdk import AgencyIdentity, Connector

__all__ = ["build_connector"]


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
