"""Real estate connector (不动产登记): rights, mortgages and seals."""

from connectors.real_estate.adapter import RealEstateConnector

__all__ = ["RealEstateConnector"]
