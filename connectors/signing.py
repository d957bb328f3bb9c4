"""Signed messages between the gateway and an agency's connector service.

Both directions are JWS Compact Serializations (RFC 7515 §7.1) with the fully
specified algorithm ``Ed25519`` (RFC 9864) over the canonical JSON of the
message (sorted keys, no whitespace, UTF-8, no floats), as X-Road signs both
the query and the answer:

    gateway ── request JWS (typ fetch-request+jws) ──────────────▶ agency
              id, issued_at_ms, deadline_ms, agency_id, request
    gateway ◀─ response JWS (typ fetch-response+jws) ───────────── agency
              agency_id, request_sha256, issued_at_ms, result | error

The response names the SHA-256 of the exact request JWS it answers, so either
side can later prove what was asked and what was answered. Digests are the
lowercase hex SHA-256 of the compact JWS text.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from connectors.keyfiles import (
    MessageKey,
    generate_key_file,
    load_private_key,
    load_public_key,
    public_pem,
)
from connectors.random_ids import random_urlsafe
from connectors.sdk import FetchRequest, FetchResult, MalformedMessage

__all__ = [
    "ALGORITHM",
    "CONTENT_TYPE",
    "MAX_MESSAGE_BYTES",
    "REQUEST_TYPE",
    "RESPONSE_TYPE",
    "AgencyErrorBody",
    "BadSignature",
    "EnvelopeError",
    "MalformedEnvelope",
    "MessageKey",
    "SignedRequest",
    "SignedResponse",
    "TrustedKeys",
    "canonical_json",
    "digest",
    "generate_key_file",
    "load_private_key",
    "load_public_key",
    "now_ms",
    "open_answer",
    "open_request",
    "public_pem",
    "sign_request",
    "sign_response",
    "verify_request",
    "verify_response",
]

# RFC 8725 §3.1: the one algorithm ever accepted is pinned; "EdDSA" is the
# polymorphic name RFC 9864 deprecates in favour of the fully specified "Ed25519".
ALGORITHM = "Ed25519"
# RFC 8725 §3.11: explicit typing, so a response can never pass for a request
# (or an access token for either).
REQUEST_TYPE = "fetch-request+jws"
RESPONSE_TYPE = "fetch-response+jws"
# RFC 7515 §9.2.1: the media type of the JWS Compact Serialization.
CONTENT_TYPE = "application/jose"
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
"""The largest signed message either side accepts (a big answer is a few hundred KiB)."""
_REGISTRY = jws.JWSRegistry(algorithms=[ALGORITHM])
_REGISTRY.max_payload_length = MAX_MESSAGE_BYTES


class EnvelopeError(Exception):
    """A signed message could not be accepted; ``code`` is stable."""

    code: ClassVar[str] = "ENVELOPE_ERROR"


class BadSignature(EnvelopeError):
    """Unsigned, signed by an unknown key, wrongly signed, or of the wrong type."""

    code = "BAD_SIGNATURE"


class MalformedEnvelope(EnvelopeError):
    """Correctly signed, but the payload does not have the documented shape."""

    code = "MALFORMED_ENVELOPE"


def canonical_json(value: object) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the same message always gives the same bytes."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def digest(token: str) -> str:
    """The lowercase hex SHA-256 of a compact JWS, as recorded in audit events."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch (integers: the messages carry no floats)."""
    return time.time_ns() // 1_000_000


class TrustedKeys:
    """The public keys a side accepts, by RFC 7638 thumbprint (several during rotation)."""

    def __init__(self, keys: Iterable[Ed25519PublicKey]) -> None:
        jwks = [OKPKey.import_key(key) for key in keys]
        self._by_kid: Mapping[str, OKPKey] = {jwk.thumbprint(): jwk for jwk in jwks}
        if not self._by_kid:
            raise ValueError("at least one trusted key is needed")

    @property
    def kids(self) -> frozenset[str]:
        """The ids of the trusted keys."""
        return frozenset(self._by_kid)

    def verify(self, token: str, typ: str) -> tuple[str, dict[str, Any]]:
        """Check a compact JWS and return its key id and JSON payload.

        Raises:
            BadSignature: not a JWS, wrong ``alg`` or ``typ``, unknown ``kid``, bad signature.
            MalformedEnvelope: the signed payload is not a JSON object.
        """
        try:
            compact = jws.extract_compact(token.encode("ascii"), registry=_REGISTRY)
            header = compact.headers()
        except (JoseError, UnicodeEncodeError, ValueError):
            raise BadSignature("not a JWS compact serialization") from None
        # RFC 8725 §3.1 and §3.11: pinned alg and explicit typ, checked before use.
        if header.get("alg") != ALGORITHM or header.get("typ") != typ:
            raise BadSignature(f"expected alg {ALGORITHM} and typ {typ}")
        # The key comes from our own configuration, never from the message itself
        # (RFC 8725 §3.10: no jwk/jku/x5u header is ever followed).
        key = self._by_kid.get(str(header.get("kid")))
        if key is None:
            raise BadSignature("signed by a key that is not trusted")
        try:
            valid = jws.validate_compact(compact, key, registry=_REGISTRY)
        except (JoseError, ValueError):
            valid = False
        if not valid:
            raise BadSignature("signature does not verify")
        try:
            body = orjson.loads(compact.payload)
        except orjson.JSONDecodeError:
            raise MalformedEnvelope("payload is not JSON") from None
        if not isinstance(body, dict):
            raise MalformedEnvelope("payload is not a JSON object")
        return str(header["kid"]), body


def _sign(key: MessageKey, typ: str, payload: Mapping[str, Any]) -> str:
    header = {"alg": ALGORITHM, "typ": typ, "kid": key.kid}
    return jws.serialize_compact(header, canonical_json(payload), key.jwk, registry=_REGISTRY)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A verified (or freshly signed) request envelope.

    Attributes:
        id: Unique per message, a fresh one for every attempt; the replay cache's key.
        issued_at_ms: When the gateway signed it.
        deadline_ms: After this instant the gateway no longer waits for the answer.
        agency_id: The agency it is meant for (a request signed for one agency is
            refused by every other).
        key_id: The gateway key that signed it.
        request: What is asked, on whose authority.
        token: The exact compact JWS.
    """

    id: str
    issued_at_ms: int
    deadline_ms: int
    agency_id: str
    key_id: str
    request: FetchRequest
    token: str

    @property
    def digest(self) -> str:
        """The hex SHA-256 of :attr:`token`."""
        return digest(self.token)


def sign_request(
    key: MessageKey,
    request: FetchRequest,
    *,
    agency_id: str,
    deadline_s: float,
    issued_at_ms: int | None = None,
) -> SignedRequest:
    """Sign a fetch request for one agency, due within ``deadline_s`` seconds."""
    issued = now_ms() if issued_at_ms is None else issued_at_ms
    message_id = random_urlsafe(16)
    deadline = issued + round(deadline_s * 1000)
    envelope = {
        "id": message_id,
        "issued_at_ms": issued,
        "deadline_ms": deadline,
        "agency_id": agency_id,
        "request": request.to_json(),
    }
    token = _sign(key, REQUEST_TYPE, envelope)
    return SignedRequest(message_id, issued, deadline, agency_id, key.kid, request, token)


def open_request(
    token: str, trusted: TrustedKeys, typ: str, *, agency_id: str
) -> tuple[str, dict[str, Any]]:
    """The signing key id and payload of a request envelope meant for ``agency_id``.

    Every kind of request (fetch, control) is opened here, so the audience check
    cannot be left out of one of them.

    Raises:
        BadSignature: see :meth:`TrustedKeys.verify`; also a request for another agency.
        MalformedEnvelope: see :meth:`TrustedKeys.verify`.
    """
    kid, body = trusted.verify(token, typ)
    if body.get("agency_id") != agency_id:
        # Like a JWT audience (RFC 7519 §4.1.3): not ours, so not acted upon.
        raise BadSignature("the request is meant for another agency")
    return kid, body


def open_answer(
    token: str, trusted: TrustedKeys, typ: str, *, agency_id: str, request_digest: str
) -> dict[str, Any]:
    """The payload of an agency's answer, bound to the agency and the request asked.

    Every kind of answer (fetch, control) is opened here, so the binding cannot be
    left out of one of them.

    Raises:
        BadSignature: see :meth:`TrustedKeys.verify`; also an answer from another
            agency or to another request.
        MalformedEnvelope: see :meth:`TrustedKeys.verify`.
    """
    _, body = trusted.verify(token, typ)
    if body.get("agency_id") != agency_id:
        raise BadSignature("the answer names another agency")
    # The X-Road binding: the answer commits to the exact request it answers.
    if body.get("request_sha256") != request_digest:
        raise BadSignature("the answer is bound to another request")
    return body


def verify_request(token: str, trusted: TrustedKeys, *, agency_id: str) -> SignedRequest:
    """Verify a request envelope meant for ``agency_id``; freshness is the caller's check.

    Raises:
        BadSignature: see :meth:`TrustedKeys.verify`; also a request for another agency.
        MalformedEnvelope: the payload lacks a field or has one of the wrong type.
        InvalidSubject: the subject's identifier is invalid.
    """
    kid, body = open_request(token, trusted, REQUEST_TYPE, agency_id=agency_id)
    try:
        request = FetchRequest.from_json(body.get("request"))
    except MalformedMessage as error:
        raise MalformedEnvelope(str(error)) from None
    return SignedRequest(
        _text(body, "id"),
        _integer(body, "issued_at_ms"),
        _integer(body, "deadline_ms"),
        agency_id,
        kid,
        request,
        token,
    )


@dataclass(frozen=True, slots=True)
class AgencyErrorBody:
    """A typed refusal or failure the agency signs instead of a result."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class SignedResponse:
    """A verified (or freshly signed) response envelope: a result or an error."""

    agency_id: str
    request_sha256: str
    issued_at_ms: int
    result: FetchResult | None
    error: AgencyErrorBody | None
    token: str

    @property
    def digest(self) -> str:
        """The hex SHA-256 of :attr:`token`."""
        return digest(self.token)


def sign_response(
    key: MessageKey,
    *,
    agency_id: str,
    request_sha256: str,
    result: FetchResult | None = None,
    error: AgencyErrorBody | None = None,
) -> SignedResponse:
    """Sign the answer to the request whose JWS has the digest ``request_sha256``."""
    if (result is None) == (error is None):
        raise ValueError("a response carries a result or an error, not both")
    issued = now_ms()
    envelope: dict[str, Any] = {
        "agency_id": agency_id,
        "request_sha256": request_sha256,
        "issued_at_ms": issued,
    }
    if result is not None:
        envelope["result"] = result.to_json()
    if error is not None:
        envelope["error"] = {"code": error.code, "message": error.message}
    token = _sign(key, RESPONSE_TYPE, envelope)
    return SignedResponse(agency_id, request_sha256, issued, result, error, token)


def verify_response(token: str, trusted: TrustedKeys, *, request: SignedRequest) -> SignedResponse:
    """Verify an agency's answer to ``request`` before anything in it is used.

    Raises:
        BadSignature: see :meth:`TrustedKeys.verify`; also an answer from another
            agency or to another request.
        MalformedEnvelope: the payload does not have the documented shape.
    """
    body = open_answer(
        token, trusted, RESPONSE_TYPE, agency_id=request.agency_id, request_digest=request.digest
    )
    result = error = None
    try:
        if "result" in body:
            result = FetchResult.from_json(body["result"])
        elif isinstance(body.get("error"), dict):
            error = AgencyErrorBody(_text(body["error"], "code"), _text(body["error"], "message"))
        else:
            raise MalformedEnvelope("neither a result nor an error")
    except MalformedMessage as failure:
        raise MalformedEnvelope(str(failure)) from None
    return SignedResponse(
        request.agency_id,
        request.digest,
        _integer(body, "issued_at_ms"),
        result,
        error,
        token,
    )


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise MalformedEnvelope(f"{name} must be a string")
    return value


def _integer(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedEnvelope(f"{name} must be an integer")
    return value
