"""Public security connector: household register and hotel lodging."""

from connectors.public_security.adapter import PublicSecurityConnector

__all__ = ["PublicSecurityConnector"]
