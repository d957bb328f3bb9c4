"""What one request did with personal data, gathered while it runs, for the audit log.

Resolvers and the federation fill an :class:`AccessRecord`; the audit log turns
it into the request's events. Keeping the facts in one plain object means no
resolver writes audit entries by hand, and a refused request still leaves a
record of what was attempted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum


class FieldOutcome(StrEnum):
    """How a requested field was answered."""

    RETURNED = "returned"
    MASKED = "masked"
    DENIED = "denied"


@dataclass
class AgencyCall:
    """One call to one agency: what was asked and how it went."""

    agency_id: str
    datasets: dict[str, list[str]]
    outcome: str = "pending"  # "ok" or an error code such as AGENCY_TIMEOUT
    latency_ms: int | None = None
    request_digest: str | None = None
    response_digest: str | None = None
    records: int = 0


@dataclass
class FieldDecisionRecord:
    """The decision on one field: outcome and the policies that made it."""

    agency_kind: str
    dataset: str
    name: str
    outcome: FieldOutcome
    policy_ids: list[str] = field(default_factory=list)


@dataclass
class AccessRecord:
    """Everything the audit log needs to know about one request.

    Attributes:
        operation: the kind of access ("investigation", "dishonestStatus" ...).
        case_number / document: the legal authority invoked, if any.
        subjects: the subjects (resident ID or credit code) the request is about;
            the audit log stores them only as blind indexes and ciphertext.
        requested: per dataset, the fields the operation selects (before policy).
        agency_calls: the agencies asked, with per-agency outcome.
        fields: the decision on every requested field.
        policy_set_hash: the hash of the policy set that decided.
        error_codes: the codes of the errors the response carried.
        measures: the control-measure steps of the request (order, agency answer).
    """

    operation: str | None = None
    case_number: str | None = None
    court_id: str | None = None
    document: str | None = None
    subjects: list[str] = field(default_factory=list)
    requested: dict[str, list[str]] = field(default_factory=dict)
    agency_calls: list[AgencyCall] = field(default_factory=list)
    fields: list[FieldDecisionRecord] = field(default_factory=list)
    policy_set_hash: str | None = None
    error_codes: list[str] = field(default_factory=list)
    refused: str | None = None  # why the request was refused before any data was sought
    # Control measures this request ordered or saw answered: one canonical-JSON-ready
    # step each (gateway.measures.audit_steps), with the legal documents.
    measures: list[dict[str, object]] = field(default_factory=list)


async def _no_intent(_: AccessRecord) -> None:
    return None


#: Makes the intent of a record durable. Called when the intent is started: an
#: implementation takes what the record holds at that moment (the returned
#: awaitable may finish later, while the request goes on).
IntentWriter = Callable[[AccessRecord], Awaitable[None]]


@dataclass
class AccessTrail:
    """The request's record plus the hook that makes its intent durable.

    ``await trail.before_fanout()`` must be called after the plan is known and
    before any agency is asked: the audit log writes the intent entry there
    and raises (fail closed) if it cannot. ``start_intent()`` may begin that
    write earlier, so that it runs while the request does other work (the case
    look-up); ``before_fanout()`` then waits for it.
    """

    record: AccessRecord = field(default_factory=AccessRecord)
    write_intent: IntentWriter = _no_intent
    _intent: asyncio.Future[None] | None = field(default=None, init=False, repr=False)

    def start_intent(self) -> asyncio.Future[None]:
        """Begin making the intent durable with what the record holds now (idempotent)."""
        if self._intent is None:
            self._intent = asyncio.ensure_future(self.write_intent(self.record))
        return self._intent

    @property
    def intent_written(self) -> bool:
        """Whether the intent is durable."""
        intent = self._intent
        if intent is None or not intent.done() or intent.cancelled():
            return False
        return intent.exception() is None

    async def before_fanout(self) -> None:
        """Make the intent durable before any agency is asked (idempotent).

        Raises:
            Exception: whatever the intent writer raised (fail closed).
        """
        await self.start_intent()
