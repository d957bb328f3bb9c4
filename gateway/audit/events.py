"""The shape of audit events, built from what a request gathered (its AccessRecord).

Each GraphQL request yields an *outcome* event, refused requests included; an
investigation yields an *intent* event first, committed while its case is looked
up and before any agency is asked. The intent names the case and subject the
officer invoked and the fields the operation selects (``requested``); which
agencies were asked, and how each field was decided, are the outcome's to say.
An event is a JSON
object encoded canonically (gateway.audit.canonical) whose bytes are the
Merkle leaf data. It holds no resident ID number: subjects appear as keyed
blind indexes and ciphertext hashes (gateway.audit.subjects), and the query
text only as its SHA-256, because a query may spell out an ID number.

Schema version 1, keys in canonical (sorted) order as stored::

    agencies       [{agencyId, datasets, outcome, latencyMs, requestDigest,
                     responseDigest, records}]
    authority      {caseNumber, courtId, document} or null
    errorCodes     [code, ...] from the access record and the response
    fields         [{agencyKind, dataset, name, outcome, policyIds}]
    index          the leaf index, so a moved event is detected
    kind           "intent" | "outcome" | "measure" (a measure's later step:
                   an agency's delayed answer, an expiry)
    measures       [{measureId, kind, step, status, agencyId, dataset, assetRef,
                     ruling, notice, amount, requestedAmount, until, actsOn,
                     reference, reason}], present only on events about measures
    operation      {name, kind, documentHash}
    outcome        "pending" (intent) | "ok" | "error" | "refused"
    policySetHash  hash of the policy set that decided, or null
    principal      {subject, clientId, role, courtId, agencyId, officerId} or
                   null when the caller is unknown; then authFailure says why
    authFailure    "missing_token" | "invalid_token" | "issuer_unavailable" | null
    refused        why the request was refused before data was sought, or null
    requested      {dataset: [field, ...]} the operation selects, before policy
    requestId      the request id (also in the logs)
    subjects       [{blindIndex, ciphertextHash}]
    time           Unix milliseconds when the event became durable
    v              1
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.access_record import AccessRecord
from gateway.auth.principal import Principal

__all__ = [
    "EVENT_KINDS",
    "EVENT_OUTCOMES",
    "REFUSAL_CODES",
    "EventDraft",
    "RequestFacts",
    "document_hash",
    "intent_draft",
    "measure_draft",
    "operation_name",
    "outcome_draft",
]

SCHEMA_VERSION = 1

#: Every event kind the log holds; an auditor filtering by another is told so.
EVENT_KINDS = ("intent", "outcome", "measure")

#: Every event outcome: ``pending`` for an intent, one of the others for an outcome.
EVENT_OUTCOMES = ("pending", "ok", "error", "refused")

#: Error codes that mean the gateway refused the request (no data was sought).
REFUSAL_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "INSUFFICIENT_SCOPE",
        "BAD_REQUEST",
        "BAD_USER_INPUT",
        "UNSUPPORTED_MEDIA_TYPE",
        "PAYLOAD_TOO_LARGE",
        "LIMIT_EXCEEDED",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
    }
)

# GraphQL names (October 2021 spec, §2.1.9), capped so a log line stays short.
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_OPERATION = re.compile(r"^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def document_hash(query: str) -> str:
    """SHA-256 (hex) of the GraphQL document, standing in for its text in the log."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def operation_name(query: str, supplied: str | None) -> str | None:
    """The operation's name: the one the client named, else the document's first.

    Args:
        query: The GraphQL document.
        supplied: The request's ``operationName``.

    Returns:
        A valid GraphQL name, or ``None`` (anonymous, or not a name at all).
    """
    if supplied is not None:
        return supplied if _NAME.fullmatch(supplied) else None
    match = _OPERATION.match(query)
    return match.group(1)[:64] if match else None


@dataclass
class RequestFacts:
    """What the endpoint knows about a request, beyond its AccessRecord.

    Attributes:
        request_id: The request id bound in logs.
        principal: The authenticated caller, or ``None``.
        auth_failure: Why authentication failed (a category, never the token).
        operation_name: The GraphQL operation name, if any.
        document_hash: SHA-256 of the GraphQL document, if one was read.
    """

    request_id: str
    principal: Principal | None = None
    auth_failure: str | None = None
    operation_name: str | None = None
    document_hash: str | None = None


@dataclass(frozen=True)
class EventDraft:
    """An event before it has an index and a time.

    Attributes:
        kind: ``"intent"`` or ``"outcome"``.
        body: The event's fields other than kind, index, time and subjects.
        subjects: Subject IDs in clear; sealed when the index is known and
            never stored as they are.

    The search columns and rows (agencies asked, measures, subjects ...) are derived from
    the rendered event alone (gateway.audit.projection), never given beside it.
    """

    kind: str
    body: dict[str, Any]
    subjects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Auditors may filter only by the kinds and outcomes listed here, so a new
        # one must be listed before it is logged (a programming error, caught in tests).
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"event kind {self.kind!r} is not in EVENT_KINDS")
        if self.body.get("outcome") not in EVENT_OUTCOMES:
            raise ValueError(f"event outcome {self.body.get('outcome')!r} is not in EVENT_OUTCOMES")

    def render(self, index: int, time_ms: int, subjects: list[dict[str, str]]) -> dict[str, Any]:
        """The complete event, ready for canonical JSON."""
        return {
            **self.body,
            "kind": self.kind,
            "index": index,
            "time": time_ms,
            "subjects": subjects,
        }


def _principal(principal: Principal | None) -> dict[str, Any] | None:
    if principal is None:
        return None
    return {
        "subject": principal.subject,
        "clientId": principal.client_id,
        "role": principal.role.value,
        "courtId": principal.court_id,
        "agencyId": principal.agency_id,
        "officerId": principal.officer_id,
    }


def _outcome(record: AccessRecord, codes: Sequence[str], facts: RequestFacts) -> str:
    if record.refused or facts.auth_failure or any(code in REFUSAL_CODES for code in codes):
        return "refused"
    return "error" if codes else "ok"


def _body(kind: str, facts: RequestFacts, record: AccessRecord, codes: list[str]) -> dict[str, Any]:
    authority = None
    if record.case_number or record.document or record.court_id:
        authority = {
            "caseNumber": record.case_number,
            "courtId": record.court_id,
            "document": record.document,
        }
    body: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "kind": kind,
        "requestId": facts.request_id,
        "principal": _principal(facts.principal),
        "authFailure": facts.auth_failure,
        "operation": {
            "name": facts.operation_name,
            "kind": record.operation,
            "documentHash": facts.document_hash,
        },
        "authority": authority,
        "requested": {name: list(fields) for name, fields in record.requested.items()},
        "agencies": [
            {
                "agencyId": call.agency_id,
                "datasets": {name: list(fields) for name, fields in call.datasets.items()},
                "outcome": call.outcome,
                "latencyMs": call.latency_ms,
                "requestDigest": call.request_digest,
                "responseDigest": call.response_digest,
                "records": call.records,
            }
            for call in record.agency_calls
        ],
        "fields": [
            {
                "agencyKind": decision.agency_kind,
                "dataset": decision.dataset,
                "name": decision.name,
                "outcome": decision.outcome.value,
                "policyIds": list(decision.policy_ids),
            }
            for decision in record.fields
        ],
        "policySetHash": record.policy_set_hash,
        "errorCodes": codes,
        "refused": record.refused,
        "outcome": "pending" if kind == "intent" else _outcome(record, codes, facts),
    }
    if record.measures:
        # Only events about measures carry the key: every other event stays as it was.
        body["measures"] = [dict(step) for step in record.measures]
    return body


def _draft(kind: str, facts: RequestFacts, record: AccessRecord, codes: list[str]) -> EventDraft:
    return EventDraft(
        kind=kind, body=_body(kind, facts, record, codes), subjects=tuple(record.subjects)
    )


def intent_draft(facts: RequestFacts, record: AccessRecord) -> EventDraft:
    """The intent event: what the request is about to ask, before any agency is asked."""
    return _draft("intent", facts, record, [])


def outcome_draft(
    facts: RequestFacts, record: AccessRecord, response_codes: Sequence[str] = ()
) -> EventDraft:
    """The outcome event: what was asked, answered, masked, denied or refused.

    Args:
        facts: The endpoint's facts about the request.
        record: What the resolvers and federation recorded.
        response_codes: ``extensions.code`` of every error in the response.

    Returns:
        The draft; its error codes merge the record's and the response's.
    """
    codes = list(dict.fromkeys([*record.error_codes, *response_codes]))
    return _draft("outcome", facts, record, codes)


def measure_draft(request_id: str, record: AccessRecord) -> EventDraft:
    """A later step of a measure no request made: an agency's delayed answer, an expiry.

    Args:
        request_id: Names the round that observed it (e.g. ``measure-refresh-...``).
        record: The measure's case, subject, agency call and steps.
    """
    return _draft("measure", RequestFacts(request_id=request_id), record, [])
