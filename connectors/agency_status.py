"""How a remote agency has been answering lately, for operators and officers.

A :class:`CallWindow` keeps the outcome and latency of the last few calls; it
turns them, with the state of the agency's circuit breaker, into an
:class:`AgencyStatus`:

    circuit_open  the breaker is open: calls fail fast until the recovery timeout
    down          the most recent calls all failed
    degraded      some recent calls failed, or the breaker is probing (half-open)
    up            every recent call succeeded
    unknown       no call yet
"""

from __future__ import annotations

import datetime
import statistics
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["AgencyState", "AgencyStatus", "CallWindow"]


class AgencyState(StrEnum):
    """The health of an agency as the gateway sees it."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    CIRCUIT_OPEN = "circuit_open"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AgencyStatus:
    """A snapshot of one agency's health.

    Attributes:
        state: See :class:`AgencyState`.
        last_error: ``CODE: message`` of the latest failure, if any.
        last_error_at: When it happened (UTC).
        latency_p50_ms: Median latency of the recent successful calls.
        recent_calls: How many calls the window holds.
        recent_failures: How many of them failed.
    """

    state: AgencyState
    last_error: str | None = None
    last_error_at: datetime.datetime | None = None
    latency_p50_ms: float | None = None
    recent_calls: int = 0
    recent_failures: int = 0


class CallWindow:
    """The last ``size`` call outcomes of one agency.

    ``down_after`` consecutive failures at the end of the window make the
    agency ``down`` (before its breaker opens, if the breaker's threshold is higher).
    """

    def __init__(self, size: int = 20, down_after: int = 3) -> None:
        self._calls: deque[tuple[bool, float]] = deque(maxlen=size)
        self._down_after = down_after
        self._last_error: str | None = None
        self._last_error_at: datetime.datetime | None = None

    def succeeded(self, latency_ms: float) -> None:
        """Record a call that was answered."""
        self._calls.append((True, latency_ms))

    def failed(self, latency_ms: float, code: str, message: str) -> None:
        """Record a failed call and keep its error."""
        self._calls.append((False, latency_ms))
        self._last_error = f"{code}: {message}"
        self._last_error_at = datetime.datetime.now(datetime.UTC)

    def status(self, *, circuit_open: bool, probing: bool) -> AgencyStatus:
        """The agency's status, given its breaker's state."""
        calls = list(self._calls)
        failures = sum(1 for ok, _ in calls if not ok)
        latencies = [ms for ok, ms in calls if ok]
        tail = calls[-self._down_after :]
        if circuit_open:
            state = AgencyState.CIRCUIT_OPEN
        elif not calls:
            state = AgencyState.UNKNOWN
        elif len(tail) == self._down_after and not any(ok for ok, _ in tail):
            state = AgencyState.DOWN
        elif failures or probing:
            state = AgencyState.DEGRADED
        else:
            state = AgencyState.UP
        return AgencyStatus(
            state=state,
            last_error=self._last_error,
            last_error_at=self._last_error_at,
            latency_p50_ms=round(statistics.median(latencies), 2) if latencies else None,
            recent_calls=len(calls),
            recent_failures=failures,
        )
