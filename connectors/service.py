"""The connector service: any :class:`~connectors.sdk.Connector` over signed HTTP.

An agency runs this next to its own data (``credgate connector serve``); the
gateway reaches it with :class:`connectors.remote.RemoteConnector`.

    POST /v1/fetch     body: request JWS (application/jose); answer: response JWS
    POST /v1/control   body: control-request JWS (submit an order, or poll status);
                       answer: control-response JWS (only for a ControlConnector)
    GET  /v1/health    {"status": "ok", "agency_id": ...}
    GET  /v1/datasets  the agency, the datasets it serves, its key id

A request is acted upon only if it is signed by a trusted gateway key, meant for
this agency, fresh, and not seen before. Until then refusals are plain JSON
``{"error": {"code", "message"}}`` (401 bad signature or stale, 409 replay, 400
malformed, 413 too large, 415 wrong media type). From then on every answer,
success or typed failure, is signed and bound to the request's digest:

    200 result, 422 AGENCY_REJECTED, 503 AGENCY_UNAVAILABLE, 504 AGENCY_TIMEOUT,
    502 BAD_AGENCY_RESPONSE

Driver exceptions never leave the service: they are logged and answered as
``AGENCY_UNAVAILABLE``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.control import CONTROLLED_DATASETS, ControlConnector, MeasureReport
from connectors.control_transport import SignedControl, sign_control_response, verify_control
from connectors.sdk import (
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    BadAgencyResponse,
    Connector,
    ConnectorError,
    FetchResult,
    InvalidSubject,
    ensure_served,
)
from connectors.signing import (
    CONTENT_TYPE,
    AgencyErrorBody,
    EnvelopeError,
    MessageKey,
    SignedRequest,
    TrustedKeys,
    now_ms,
    sign_response,
    verify_request,
)

__all__ = ["MAX_REQUEST_BYTES", "ReplayCache", "create_service"]

log = logging.getLogger("connectors.service")

MAX_REQUEST_BYTES = 64 * 1024
"""A request names one subject and a few field lists; anything bigger is refused."""

_STATUS = {
    AgencyRejected.code: 422,
    AgencyUnavailable.code: 503,
    AgencyTimeout.code: 504,
    BadAgencyResponse.code: 502,
}


class ReplayCache:
    """Message ids seen recently, each remembered as long as it could still be fresh.

    A request is accepted only while ``|now - issued_at| <= window``, so an id
    seen at time *t* can be replayed successfully until ``t + 2 * window`` at the
    latest; it is forgotten after that. Memory is bounded by ``capacity``: when
    that many ids are still live, new requests are refused rather than letting
    an id be forgotten early (which would reopen the door to replays).
    """

    def __init__(
        self,
        window_s: float,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keep_s = 2 * window_s
        self._capacity = capacity
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    def first_sighting(self, message_id: str) -> bool:
        """Remember ``message_id``; ``False`` if it was seen before.

        Raises:
            OverflowError: ``capacity`` live ids are remembered already.
        """
        now = self._clock()
        # Insertion order is expiry order (a constant lifetime), so expired ids
        # are all at the front.
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)
        if message_id in self._expiry:
            return False
        if len(self._expiry) >= self._capacity:
            raise OverflowError("replay cache full")
        self._expiry[message_id] = now + self._keep_s
        return True


def _refusal(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status)


class _FetchEndpoint:
    """``POST /v1/fetch``: verify, check, fetch under the deadline, sign."""

    def __init__(
        self,
        connector: Connector,
        key: MessageKey,
        gateway_keys: TrustedKeys,
        freshness_s: float,
        max_deadline_s: float,
        replay_cache: ReplayCache,
    ) -> None:
        self.connector = connector
        self.key = key
        self.gateway_keys = gateway_keys
        self.freshness_ms = round(freshness_s * 1000)
        self.max_deadline_ms = round(max_deadline_s * 1000)
        self.replays = replay_cache

    async def handle(self, request: Request) -> Response:
        """Answer one signed fetch request."""
        if request.headers.get("content-type", "").split(";")[0].strip() != CONTENT_TYPE:
            return _refusal(415, "UNSUPPORTED_MEDIA_TYPE", f"send {CONTENT_TYPE}")
        body = await _read_limited(request, MAX_REQUEST_BYTES)
        if body is None:
            return _refusal(413, "REQUEST_TOO_LARGE", f"at most {MAX_REQUEST_BYTES} bytes")
        agency_id = self.connector.identity.id
        try:
            signed = verify_request(
                body.decode("ascii", "replace"), self.gateway_keys, agency_id=agency_id
            )
        except EnvelopeError as error:
            status = 401 if error.code == "BAD_SIGNATURE" else 400
            return _refusal(status, error.code, str(error))
        except InvalidSubject as error:
            return _refusal(400, error.code, str(error))
        refusal = self._admit(signed)
        if refusal is not None:
            return refusal
        return await self._answer(signed)

    def _admit(self, signed: SignedRequest | SignedControl) -> Response | None:
        now = now_ms()
        # Freshness bounds how long a captured request stays usable (and how long
        # the replay cache must remember it), as in X-Road and RFC 7519 iat/exp use.
        if abs(now - signed.issued_at_ms) > self.freshness_ms:
            return _refusal(401, "STALE_REQUEST", "issued_at_ms is outside the freshness window")
        budget = signed.deadline_ms - signed.issued_at_ms
        if not 0 < budget <= self.max_deadline_ms:
            return _refusal(400, "MALFORMED_ENVELOPE", "deadline_ms out of range")
        try:
            first = self.replays.first_sighting(signed.id)
        except OverflowError:
            return _refusal(503, "BUSY", "too many requests in the freshness window")
        if not first:
            return _refusal(409, "REPLAYED_REQUEST", "this request was received before")
        return None

    async def _answer(self, signed: SignedRequest) -> Response:
        identity = self.connector.identity
        started = time.perf_counter()
        try:
            ensure_served(identity, self.connector.datasets, signed.request)
            result = await self._fetch(signed)
        except ConnectorError as error:
            log.info("fetch_failed id=%s code=%s", signed.id, error.code)
            return self._signed(signed, error=AgencyErrorBody(error.code, error.message))
        except Exception:
            # A driver or adapter bug: logged here, never shown to the gateway.
            log.exception("fetch_crashed id=%s", signed.id)
            failure = AgencyErrorBody(AgencyUnavailable.code, "internal error")
            return self._signed(signed, error=failure)
        log.info("fetch_ok id=%s ms=%.1f", signed.id, (time.perf_counter() - started) * 1000)
        return self._signed(signed, result=result)

    async def _fetch(self, signed: SignedRequest) -> FetchResult:
        identity = self.connector.identity
        # Relative budget from the gateway's own two timestamps (as gRPC
        # propagates timeouts), shortened if our clock says time is already up.
        remaining_ms = signed.deadline_ms - max(now_ms(), signed.issued_at_ms)
        if remaining_ms <= 0:
            raise AgencyTimeout("the deadline passed before work began", agency_id=identity.id)
        try:
            # Stop work the gateway will not wait for: cancelling the fetch
            # interrupts the running statement (see connectors.sql).
            async with asyncio.timeout(remaining_ms / 1000):
                result = await self.connector.fetch(signed.request)
        except TimeoutError:
            raise AgencyTimeout("the deadline passed", agency_id=identity.id) from None
        if result.agency_id != identity.id:
            raise AgencyUnavailable("connector answered for another agency", agency_id=identity.id)
        return result

    def _signed(
        self,
        signed: SignedRequest,
        *,
        result: FetchResult | None = None,
        error: AgencyErrorBody | None = None,
    ) -> Response:
        response = sign_response(
            self.key,
            agency_id=self.connector.identity.id,
            request_sha256=signed.digest,
            result=result,
            error=error,
        )
        status = 200 if error is None else _STATUS.get(error.code, 503)
        return Response(response.token, status, media_type=CONTENT_TYPE)


class _ControlEndpoint:
    """``POST /v1/control``: verify and admit as fetches are, then submit or report."""

    def __init__(self, connector: ControlConnector, admission: _FetchEndpoint) -> None:
        self.connector = connector
        self.admission = admission

    async def handle(self, request: Request) -> Response:
        """Answer one signed control request."""
        if request.headers.get("content-type", "").split(";")[0].strip() != CONTENT_TYPE:
            return _refusal(415, "UNSUPPORTED_MEDIA_TYPE", f"send {CONTENT_TYPE}")
        body = await _read_limited(request, MAX_REQUEST_BYTES)
        if body is None:
            return _refusal(413, "REQUEST_TOO_LARGE", f"at most {MAX_REQUEST_BYTES} bytes")
        agency_id = self.connector.identity.id
        try:
            signed = verify_control(
                body.decode("ascii", "replace"), self.admission.gateway_keys, agency_id=agency_id
            )
        except EnvelopeError as error:
            status = 401 if error.code == "BAD_SIGNATURE" else 400
            return _refusal(status, error.code, str(error))
        except InvalidSubject as error:
            return _refusal(400, error.code, str(error))
        refusal = self.admission._admit(signed)
        if refusal is not None:
            return refusal
        try:
            reports = await self._run(signed)
        except ConnectorError as error:
            log.info("control_failed id=%s code=%s", signed.id, error.code)
            return self._signed(signed, error=AgencyErrorBody(error.code, error.message))
        except Exception:
            log.exception("control_crashed id=%s", signed.id)
            failure = AgencyErrorBody(AgencyUnavailable.code, "internal error")
            return self._signed(signed, error=failure)
        return self._signed(signed, reports=reports)

    async def _run(self, signed: SignedControl) -> list[MeasureReport]:
        agency_id = self.connector.identity.id
        remaining_ms = signed.deadline_ms - max(now_ms(), signed.issued_at_ms)
        if remaining_ms <= 0:
            raise AgencyTimeout("the deadline passed before work began", agency_id=agency_id)
        order = signed.order
        if order is not None and (
            order.asset.dataset not in self.connector.controlled
            or order.asset.dataset not in CONTROLLED_DATASETS
        ):
            raise AgencyRejected(
                f"no measures are accepted on {order.asset.dataset}", agency_id=agency_id
            )
        try:
            async with asyncio.timeout(remaining_ms / 1000):
                if order is not None:
                    return [await self.connector.submit(order)]
                return await self.connector.reports(signed.measure_ids)
        except TimeoutError:
            raise AgencyTimeout("the deadline passed", agency_id=agency_id) from None

    def _signed(
        self,
        signed: SignedControl,
        *,
        reports: list[MeasureReport] | None = None,
        error: AgencyErrorBody | None = None,
    ) -> Response:
        response = sign_control_response(
            self.admission.key,
            agency_id=self.connector.identity.id,
            request_sha256=signed.digest,
            reports=reports,
            error=error,
        )
        status = 200 if error is None else _STATUS.get(error.code, 503)
        return Response(response.token, status, media_type=CONTENT_TYPE)


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` once it exceeds ``limit`` bytes (read no further)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_service(
    connector: Connector,
    key: MessageKey,
    gateway_keys: TrustedKeys,
    *,
    freshness_s: float = 60.0,
    max_deadline_s: float = 60.0,
    replay_capacity: int = 100_000,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
) -> Starlette:
    """The ASGI app serving ``connector`` to gateways holding one of ``gateway_keys``.

    Run one process per agency: the replay cache lives in memory, so several
    workers behind one address would each accept a replay once.

    Args:
        connector: The agency's adapter.
        key: The agency's own signing key; the gateway trusts its public half.
        gateway_keys: The gateway keys whose requests are accepted.
        freshness_s: How far ``issued_at_ms`` may be from this host's clock.
        max_deadline_s: The longest deadline a request may ask for.
        replay_capacity: The most message ids remembered at once.
        on_shutdown: Called when the server stops (e.g. to close the connector).
    """
    endpoint = _FetchEndpoint(
        connector,
        key,
        gateway_keys,
        freshness_s,
        max_deadline_s,
        ReplayCache(freshness_s, replay_capacity),
    )
    identity = connector.identity
    routes = [Route("/v1/fetch", endpoint.handle, methods=["POST"])]
    if isinstance(connector, ControlConnector):
        # Measures are a second, optional protocol: served only by agencies that take them.
        control = _ControlEndpoint(connector, endpoint)
        routes.append(Route("/v1/control", control.handle, methods=["POST"]))

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "agency_id": identity.id})

    async def datasets(_: Request) -> Response:
        document: dict[str, Any] = {
            "agency": {"id": identity.id, "kind": identity.kind, "name": identity.name},
            "datasets": sorted(connector.datasets),
            "controlled": sorted(connector.controlled)
            if isinstance(connector, ControlConnector)
            else [],
            "key_id": key.kid,
        }
        return JSONResponse(document)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if on_shutdown is not None:
                await on_shutdown()

    return Starlette(
        routes=[
            *routes,
            Route("/v1/health", health, methods=["GET"]),
            Route("/v1/datasets", datasets, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
