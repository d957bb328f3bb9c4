"""structlog configuration: JSON lines, request context, and redaction of secrets and IDs.

Redaction is a processor in the pipeline (as structlog intends), so no call site
can forget it: values under secret-looking keys are dropped and anything shaped
like a resident ID number or a bearer token is masked wherever it appears.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"(token|secret|password|authorization|private|key)$", re.IGNORECASE)
_RESIDENT_ID = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}[01][0-9][0-3][0-9][0-9]{3}[0-9Xx](?![0-9])"
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _JWT.sub("[token]", _RESIDENT_ID.sub("[resident-id]", value))
    if isinstance(value, dict):
        return {
            k: "[redacted]" if _SECRET_KEYS.search(str(k)) else _scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: drop secrets, mask resident IDs and tokens."""
    for key in list(event):
        event[key] = "[redacted]" if _SECRET_KEYS.search(key) else _scrub(event[key])
    return event


def _stderr_logger(*_: Any) -> structlog.WriteLogger:
    return structlog.WriteLogger(sys.stderr)


def configure_logging(level: str = "info") -> None:
    """Configure structlog to write one JSON object per line to standard error."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        # Looked up on each use, not bound once: whoever replaces sys.stderr (a
        # supervisor, pytest's capture) gets the lines.
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
