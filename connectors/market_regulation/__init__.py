"""Market regulation connector (市场监管): equity holdings and company posts."""

from connectors.market_regulation.adapter import MarketRegulationConnector

__all__ = ["MarketRegulationConnector"]
