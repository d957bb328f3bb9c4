"""Provident fund connector (住房公积金): personal accounts."""

from connectors.provident_fund.adapter import ProvidentFundConnector

__all__ = ["ProvidentFundConnector"]
