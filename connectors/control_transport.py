"""Signed control messages: the measure orders and status polls of the HTTP transport.

The same scheme as fetches (:mod:`connectors.signing`): JWS Compact, Ed25519,
canonical JSON, explicit ``typ``, the agency's answer bound to the SHA-256 of
the exact request it answers, a fresh message id per attempt for the
service's replay cache::

    gateway ── control-request+jws ──────────────────────────▶ agency
              id, issued_at_ms, deadline_ms, agency_id,
              op: "submit" + order | "status" + measure_ids
    gateway ◀─ control-response+jws ─────────────────────────── agency
              agency_id, request_sha256, issued_at_ms, reports | error

A distinct ``typ`` (RFC 8725 §3.11) keeps a fetch request from ever passing for
an order, and the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connectors.control import MeasureOrder, MeasureReport
from connectors.keyfiles import MessageKey
from connectors.random_ids import random_urlsafe
from connectors.sdk import MalformedMessage
from connectors.signing import (
    AgencyErrorBody,
    MalformedEnvelope,
    TrustedKeys,
    _integer,
    _sign,
    _text,
    digest,
    now_ms,
    open_answer,
    open_request,
)

__all__ = [
    "CONTROL_REQUEST_TYPE",
    "CONTROL_RESPONSE_TYPE",
    "ControlOp",
    "SignedControl",
    "SignedControlResponse",
    "sign_control",
    "sign_control_response",
    "verify_control",
    "verify_control_response",
]

CONTROL_REQUEST_TYPE = "control-request+jws"
CONTROL_RESPONSE_TYPE = "control-response+jws"
MAX_STATUS_IDS = 500
"""The most measures one status poll may name."""

ControlOp = Literal["submit", "status"]


@dataclass(frozen=True, slots=True)
class SignedControl:
    """A verified (or freshly signed) control request.

    Attributes:
        id: Unique per message (the replay cache's key).
        issued_at_ms: When the gateway signed it.
        deadline_ms: After this instant the gateway no longer waits.
        agency_id: The agency it is meant for.
        key_id: The gateway key that signed it.
        op: ``submit`` (``order`` set) or ``status`` (``measure_ids`` set).
        order: The order submitted.
        measure_ids: The measures asked about.
        token: The exact compact JWS.
    """

    id: str
    issued_at_ms: int
    deadline_ms: int
    agency_id: str
    key_id: str
    op: ControlOp
    order: MeasureOrder | None
    measure_ids: tuple[str, ...]
    token: str

    @property
    def digest(self) -> str:
        """The hex SHA-256 of :attr:`token`."""
        return digest(self.token)


def sign_control(
    key: MessageKey,
    *,
    agency_id: str,
    deadline_s: float,
    order: MeasureOrder | None = None,
    measure_ids: Sequence[str] = (),
) -> SignedControl:
    """Sign a submit (``order``) or a status poll (``measure_ids``) for one agency."""
    op: ControlOp = "submit" if order is not None else "status"
    issued = now_ms()
    message_id = random_urlsafe(16)
    deadline = issued + round(deadline_s * 1000)
    envelope: dict[str, Any] = {
        "id": message_id,
        "issued_at_ms": issued,
        "deadline_ms": deadline,
        "agency_id": agency_id,
        "op": op,
    }
    if order is not None:
        envelope["order"] = order.to_json()
    else:
        envelope["measure_ids"] = list(measure_ids)
    token = _sign(key, CONTROL_REQUEST_TYPE, envelope)
    return SignedControl(
        message_id, issued, deadline, agency_id, key.kid, op, order, tuple(measure_ids), token
    )


def verify_control(token: str, trusted: TrustedKeys, *, agency_id: str) -> SignedControl:
    """Verify a control request meant for ``agency_id``; freshness is the caller's check.

    Raises:
        BadSignature: see :meth:`TrustedKeys.verify`; also a request for another agency.
        MalformedEnvelope: the payload lacks a field or has one of the wrong type.
        InvalidSubject: the order's subject identifier is invalid.
    """
    kid, body = open_request(token, trusted, CONTROL_REQUEST_TYPE, agency_id=agency_id)
    op = body.get("op")
    order = None
    ids: tuple[str, ...] = ()
    try:
        if op == "submit":
            order = MeasureOrder.from_json(body.get("order"))
        elif op == "status":
            raw = body.get("measure_ids")
            if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
                raise MalformedEnvelope("measure_ids must be a list of strings")
            if len(raw) > MAX_STATUS_IDS:
                raise MalformedEnvelope(f"at most {MAX_STATUS_IDS} measure_ids")
            ids = tuple(raw)
        else:
            raise MalformedEnvelope("op must be submit or status")
    except MalformedMessage as error:
        raise MalformedEnvelope(str(error)) from None
    return SignedControl(
        _text(body, "id"),
        _integer(body, "issued_at_ms"),
        _integer(body, "deadline_ms"),
        agency_id,
        kid,
        op,
        order,
        ids,
        token,
    )


@dataclass(frozen=True, slots=True)
class SignedControlResponse:
    """A verified (or freshly signed) answer: reports, or a typed error."""

    agency_id: str
    request_sha256: str
    reports: tuple[MeasureReport, ...] | None
    error: AgencyErrorBody | None
    token: str


def sign_control_response(
    key: MessageKey,
    *,
    agency_id: str,
    request_sha256: str,
    reports: Sequence[MeasureReport] | None = None,
    error: AgencyErrorBody | None = None,
) -> SignedControlResponse:
    """Sign the answer to the control request whose JWS has the digest ``request_sha256``."""
    if (reports is None) == (error is None):
        raise ValueError("a response carries reports or an error, not both")
    envelope: dict[str, Any] = {
        "agency_id": agency_id,
        "request_sha256": request_sha256,
        "issued_at_ms": now_ms(),
    }
    if reports is not None:
        envelope["reports"] = [report.to_json() for report in reports]
    if error is not None:
        envelope["error"] = {"code": error.code, "message": error.message}
    token = _sign(key, CONTROL_RESPONSE_TYPE, envelope)
    listed = None if reports is None else tuple(reports)
    return SignedControlResponse(agency_id, request_sha256, listed, error, token)


def verify_control_response(
    token: str, trusted: TrustedKeys, *, request: SignedControl
) -> SignedControlResponse:
    """Verify an agency's answer to ``request`` before anything in it is used.

    Raises:
        BadSignature: see :meth:`TrustedKeys.verify`; also an answer from another
            agency or to another request.
        MalformedEnvelope: the payload does not have the documented shape.
    """
    body = open_answer(
        token,
        trusted,
        CONTROL_RESPONSE_TYPE,
        agency_id=request.agency_id,
        request_digest=request.digest,
    )
    reports = error = None
    try:
        if isinstance(body.get("reports"), list):
            reports = tuple(MeasureReport.from_json(item) for item in body["reports"])
        elif isinstance(body.get("error"), dict):
            error = AgencyErrorBody(_text(body["error"], "code"), _text(body["error"], "message"))
        else:
            raise MalformedEnvelope("neither reports nor an error")
    except MalformedMessage as failure:
        raise MalformedEnvelope(str(failure)) from None
    return SignedControlResponse(request.agency_id, request.digest, reports, error, token)
