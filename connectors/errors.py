"""Typed errors of the connector SDK.

Every error carries a stable ``code`` that the gateway puts into GraphQL
``extensions.code``. Connectors raise these and nothing else: a driver or HTTP
exception that escapes a connector is a bug in that connector.

    ConnectorError                  the agency could not answer; ``code``, ``agency_id``
    ├── AgencyUnavailable           AGENCY_UNAVAILABLE: its system is down or unreachable
    ├── AgencyTimeout               AGENCY_TIMEOUT: it did not answer within the deadline
    ├── AgencyRejected              AGENCY_REJECTED: it refused the request (e.g. a dataset
    │                               or field it does not serve)
    └── BadAgencyResponse           BAD_AGENCY_RESPONSE: it answered with something malformed

    InvalidSubject (ValueError)     BAD_USER_INPUT: the caller's identifier is invalid;
                                    ``field`` names the part to correct
    MalformedMessage (ValueError)   MALFORMED_MESSAGE: a FetchRequest/FetchResult payload
                                    does not have the documented shape
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AgencyRejected",
    "AgencyTimeout",
    "AgencyUnavailable",
    "BadAgencyResponse",
    "ConnectorError",
    "InvalidSubject",
    "MalformedMessage",
]


class ConnectorError(Exception):
    """An agency could not answer a request.

    Attributes:
        code: Stable machine-readable code, the same for every instance of a class.
        agency_id: The agency that failed, e.g. ``"bank-icbc"``.
        message: Human-readable detail; never contains personal data.
    """

    code: ClassVar[str] = "CONNECTOR_ERROR"

    def __init__(self, message: str, *, agency_id: str) -> None:
        super().__init__(message)
        self.message = message
        self.agency_id = agency_id

    def extensions(self) -> dict[str, str]:
        """The GraphQL ``extensions`` for this error."""
        return {"code": self.code, "agency": self.agency_id}


class AgencyUnavailable(ConnectorError):
    """The agency's system is down, unreachable, or its database is broken."""

    code = "AGENCY_UNAVAILABLE"


class AgencyTimeout(ConnectorError):
    """The agency did not answer within the deadline."""

    code = "AGENCY_TIMEOUT"


class AgencyRejected(ConnectorError):
    """The agency refused the request, e.g. a dataset or field it does not serve."""

    code = "AGENCY_REJECTED"


class BadAgencyResponse(ConnectorError):
    """The agency answered with data that does not match the contract."""

    code = "BAD_AGENCY_RESPONSE"


class InvalidSubject(ValueError):
    """The identifier of a subject is invalid; raised before any agency is asked.

    Attributes:
        field: The offending part: ``"id_type"``, ``"id_number"`` or ``"name"``.
        reason: Why it is invalid, e.g. ``"wrong check digit"``.
    """

    code: ClassVar[str] = "BAD_USER_INPUT"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class MalformedMessage(ValueError):
    """A serialized FetchRequest or FetchResult does not have the documented shape."""

    code: ClassVar[str] = "MALFORMED_MESSAGE"
