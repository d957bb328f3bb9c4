"""Bank connector: ``bank.accounts`` from a core-banking style database."""

from connectors.bank.adapter import BankConnector

__all__ = ["BankConnector"]
