"""Civil affairs connector: marriage registrations and social assistance."""

from connectors.civil_affairs.adapter import CivilAffairsConnector

__all__ = ["CivilAffairsConnector"]
