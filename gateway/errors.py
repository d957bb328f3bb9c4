"""Typed errors of the gateway.

Every error a client may see carries a stable ``code`` that reaches GraphQL
``extensions.code``; anything else is masked before it leaves the gateway.

    CredgateError                 base; ``code``, ``extensions()``
    ├── BadUserInput              BAD_USER_INPUT: the caller sent something invalid
    ├── Unauthenticated           UNAUTHENTICATED: no usable credentials
    ├── Forbidden                 FORBIDDEN: authenticated, but not allowed
    │   └── InsufficientScope     INSUFFICIENT_SCOPE: the token lacks a scope
    ├── NotFound                  NOT_FOUND
    ├── LimitExceeded             LIMIT_EXCEEDED: an operation limit was hit
    └── ServiceUnavailable        SERVICE_UNAVAILABLE: a dependency is down

    ConfigError                   a file the process needs is missing or broken;
                                  raised at start-up, never to a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar


class CredgateError(Exception):
    """Base of the errors a client may see, each with a stable code."""

    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.message = message
        self._extensions = dict(extensions)

    def extensions(self) -> dict[str, object]:
        """The GraphQL ``extensions`` for this error: its code and any data."""
        return {"code": self.code, **self._extensions}


class BadUserInput(CredgateError):
    """The caller's input is invalid; ``field`` names what to correct."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None, **extensions: object) -> None:
        if field is not None:
            extensions["field"] = field
        super().__init__(message, **extensions)


class Unauthenticated(CredgateError):
    """No valid credentials were presented."""

    code = "UNAUTHENTICATED"


class Forbidden(CredgateError):
    """The caller is known but may not do this."""

    code = "FORBIDDEN"


class InsufficientScope(Forbidden):
    """The access token lacks a scope the operation needs (RFC 6750 §3.1)."""

    code = "INSUFFICIENT_SCOPE"

    def __init__(self, scope: str) -> None:
        super().__init__(f"This operation needs the scope '{scope}'.", scope=scope)
        self.scope = scope


class NotFound(CredgateError):
    """The thing asked for does not exist."""

    code = "NOT_FOUND"


class LimitExceeded(CredgateError):
    """An operation limit (size, depth, count) was exceeded."""

    code = "LIMIT_EXCEEDED"


class ServiceUnavailable(CredgateError):
    """A dependency the answer needs is unavailable; no data is released."""

    code = "SERVICE_UNAVAILABLE"


class ConfigError(Exception):
    """A configuration or key file is missing or broken; the process must not start."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


def error_extensions(error: BaseException | None) -> Mapping[str, object] | None:
    """The extensions of a typed error, or ``None`` for anything that must be masked."""
    if isinstance(error, CredgateError):
        return error.extensions()
    code = getattr(error, "code", None)
    # Connector SDK errors carry a stable code and agency id without importing the gateway.
    if isinstance(code, str) and code.isupper():
        extensions: dict[str, object] = {"code": code}
        agency = getattr(error, "agency_id", None)
        if isinstance(agency, str):
            extensions["agency"] = agency
        return extensions
    return None
