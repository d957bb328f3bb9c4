"""Tax connector: ``tax.refunds`` from a Golden Tax style refund table."""

from connectors.tax.adapter import TaxConnector

__all__ = ["TaxConnector"]
