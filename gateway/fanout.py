"""Asking agencies: one call per agency, all at once, each under its own deadline.

Every call ends in an :class:`AgencyOutcome`, never an exception: a late agency
becomes ``AgencyTimeout`` (its call is cancelled, so the whole fan-out takes at
most the slowest deadline), a failing one keeps its SDK error, and an answer
that breaks the contract (datasets or fields not asked, values of the wrong
type, floats) becomes ``BadAgencyResponse``. Digests of the request and the
answer go to the audit log, so either side can later prove what was exchanged.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from connectors.remote import Exchange, capture_exchanges
from connectors.sdk import (
    DATASETS,
    AgencyIdentity,
    AgencyTimeout,
    AgencyUnavailable,
    BadAgencyResponse,
    ConnectorError,
    FetchRequest,
    FetchResult,
    FieldSpec,
    Record,
)
from gateway.agencies import RegisteredAgency
from gateway.audit.canonical import canonical_json
from gateway.audit.errors import CanonicalJSONError

__all__ = ["MAX_RECORDS", "AgencyOutcome", "decode_value", "digest", "fan_out"]

log = structlog.get_logger("gateway.fanout")

MAX_RECORDS = 10_000
"""Most records accepted per dataset from one agency; more is a broken answer."""

_MONEY = re.compile(r"^-?\d{1,15}\.\d{2}$")


@dataclass(frozen=True)
class AgencyOutcome:
    """How one agency call went: its checked records, or the error it ended in."""

    agency: AgencyIdentity
    request: FetchRequest
    records: Mapping[str, list[Record]] | None
    error: ConnectorError | None
    latency_ms: int
    request_digest: str
    response_digest: str | None = None


def digest(value: object) -> str:
    """The hex SHA-256 of the canonical JSON of ``value`` (gateway.audit.canonical)."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


async def fan_out(calls: Sequence[tuple[RegisteredAgency, FetchRequest]]) -> list[AgencyOutcome]:
    """Ask every agency once, concurrently; the outcomes come in the order of ``calls``."""
    return list(await asyncio.gather(*(_call(agency, request) for agency, request in calls)))


async def _call(agency: RegisteredAgency, request: FetchRequest) -> AgencyOutcome:
    identity = agency.identity
    started = time.perf_counter()
    records: Mapping[str, list[Record]] | None = None
    response_digest = None
    error: ConnectorError | None = None
    exchanges: list[Exchange] = []
    try:
        async with asyncio.timeout(agency.deadline_s):
            with capture_exchanges() as exchanges:
                result = await agency.connector.fetch(request)
        records = _checked(result, request, identity.id)
    except TimeoutError:
        error = AgencyTimeout(f"no answer within {agency.deadline_s:g} s", agency_id=identity.id)
    except ConnectorError as failure:
        error = _own(failure, identity.id)
    except CanonicalJSONError:
        error = BadAgencyResponse("the answer is not canonical JSON", agency_id=identity.id)
    except Exception:
        # A connector must raise only SDK errors; anything else is its bug. The
        # details stay in our log, the caller learns only that the agency failed.
        log.exception("connector_crashed", agency=identity.id)
        error = AgencyUnavailable("the agency's connector failed", agency_id=identity.id)
    latency_ms = round((time.perf_counter() - started) * 1000)
    if error is not None:
        records = None
        log.warning("agency_failed", agency=identity.id, code=error.code, latency_ms=latency_ms)
    # Digests are taken after the call, not before it: the fan-out's calls start
    # one after another on the event loop, so work before a call delays the next.
    if exchanges and exchanges[-1].request_digest:
        # A remote agency: the digests of the signed messages themselves (the agency's
        # answer commits to the request's), kept even for a rejected answer.
        request_digest = exchanges[-1].request_digest
        response_digest = exchanges[-1].response_digest
    else:
        request_digest = digest(request.to_json())
        if records is not None:
            response_digest = digest(result.to_json())
    return AgencyOutcome(
        identity, request, records, error, latency_ms, request_digest, response_digest
    )


def _own(error: ConnectorError, agency_id: str) -> ConnectorError:
    """The error, attributed to the agency that was called."""
    if error.agency_id == agency_id:
        return error
    return type(error)(error.message, agency_id=agency_id)


def _checked(result: object, request: FetchRequest, agency_id: str) -> dict[str, list[Record]]:
    """The records of a result that keeps the contract.

    Raises:
        BadAgencyResponse: naming what is wrong (never quoting values).
    """

    def bad(reason: str) -> BadAgencyResponse:
        return BadAgencyResponse(reason, agency_id=agency_id)

    if not isinstance(result, FetchResult) or result.agency_id != agency_id:
        raise bad("the answer is not from this agency")
    if set(result.records) != set(request.datasets):
        raise bad("the answer does not hold exactly the datasets asked")
    checked: dict[str, list[Record]] = {}
    for name, query in request.datasets.items():
        rows = result.records[name]
        if not isinstance(rows, list) or len(rows) > MAX_RECORDS:
            raise bad(f"{name}: not a list of at most {MAX_RECORDS} records")
        for row in rows:
            problem = _record_problem(name, row, query.fields)
            if problem:
                raise bad(f"{name}: {problem}")
        checked[name] = rows
    return checked


def _record_problem(dataset: str, row: object, fields: frozenset[str]) -> str | None:
    if not isinstance(row, dict):
        return "a record is not an object"
    spec = DATASETS[dataset]
    nested: dict[str, set[str]] = {}
    for name in fields:
        head, _, sub = name.partition(".")
        if sub:
            nested.setdefault(head, set()).add(sub)
    allowed = {name for name in fields if "." not in name} | set(nested)
    if set(row) - allowed:
        return "a record holds fields that were not asked"
    for key, value in row.items():
        if key in nested:
            if not isinstance(value, list) or not all(isinstance(i, dict) for i in value):
                return f"{key} is not a list of objects"
            for item in value:
                if set(item) - nested[key]:
                    return f"{key} holds fields that were not asked"
                for sub, sub_value in item.items():
                    if not _valid(spec.field(f"{key}.{sub}"), sub_value):
                        return f"{key}.{sub} has a value of the wrong type"
        elif not _valid(spec.field(key), value):
            return f"{key} has a value of the wrong type"
    return None


def _valid(spec: FieldSpec, value: object) -> bool:
    try:
        decode_value(spec, value)
    except (TypeError, ValueError):
        return False
    return True


def decode_value(spec: FieldSpec, value: object) -> object:
    """A JSON value of a catalog field as Python: dates and times parsed, rest checked.

    Raises:
        TypeError: the value's JSON type is not the field's.
        ValueError: the value is of the right type but malformed.
    """
    if value is None:
        return None
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(spec.name)
        return value
    if not isinstance(value, str):
        raise TypeError(spec.name)
    if spec.type == "date":
        return datetime.date.fromisoformat(value)
    if spec.type == "datetime":
        moment = datetime.datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError(f"{spec.name} has no UTC offset")
        return moment
    if spec.type in ("money", "decimal") and not _MONEY.match(value):
        raise ValueError(spec.name)
    if spec.type == "enum" and value not in spec.enum_values:
        raise ValueError(spec.name)
    return value
