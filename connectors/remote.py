"""The gateway's side of the signed HTTP transport: a Connector that calls a service.

:class:`RemoteConnector` implements the same :class:`~connectors.sdk.Connector`
protocol as in-process connectors, so the federation does not know the
difference. Per agency it keeps one pooled aiohttp session (created lazily on
the running loop; :meth:`RemoteConnector.aclose` closes it), a purgatory circuit
breaker, and a window of recent outcomes (:meth:`RemoteConnector.status`).

One fetch, from the outside in::

    circuit breaker   open → AgencyUnavailable at once
    deadline          asyncio.timeout(deadline_s) → AgencyTimeout
    retries           tenacity, only on connection errors (a fetch is idempotent)
    attempt           sign (a fresh message id), POST, verify signature and request
                      hash, check the records against the request

Nothing from aiohttp escapes: every failure is an SDK error naming the agency.
The request and response digests of each call are handed to whoever asked with
:func:`capture_exchanges` (the gateway's audit log records them).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import aiohttp
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from purgatory.service._async.circuitbreaker import AsyncCircuitBreaker
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from connectors.agency_status import AgencyStatus, CallWindow
from connectors.control import CONTROLLED_DATASETS, MeasureOrder, MeasureReport
from connectors.control_transport import (
    SignedControl,
    sign_control,
    verify_control_response,
)
from connectors.sdk import (
    DATASETS,
    AgencyIdentity,
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    BadAgencyResponse,
    ConnectorError,
    FetchRequest,
    FetchResult,
)
from connectors.signing import (
    CONTENT_TYPE,
    MAX_MESSAGE_BYTES,
    EnvelopeError,
    MessageKey,
    SignedRequest,
    TrustedKeys,
    sign_request,
    verify_response,
)

__all__ = [
    "Exchange",
    "RemoteAgency",
    "RemoteConnector",
    "capture_exchanges",
    "check_answer",
]

_ERRORS: Mapping[str, type[ConnectorError]] = {
    cls.code: cls for cls in (AgencyRejected, AgencyTimeout, AgencyUnavailable, BadAgencyResponse)
}
_HEADERS = {"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE}
_MAX_AGENCY_MESSAGE = 200


@dataclass(frozen=True, slots=True)
class RemoteAgency:
    """How the gateway reaches one agency's connector service.

    Attributes:
        identity: The agency.
        url: Base URL of its service, e.g. ``https://connector.icbc.example``.
        agency_keys: The agency's public key(s); answers signed otherwise are refused.
        datasets: What it serves; ``None`` means every catalog dataset of its kind.
        deadline_s: How long one fetch may take, retries included; sent to the agency.
        retries: Extra attempts after a connection error.
        failure_threshold: Consecutive failed fetches that open the circuit.
        recovery_s: How long the circuit stays open before a probe is let through.
        max_connections: Size of the connection pool.
    """

    identity: AgencyIdentity
    url: str
    agency_keys: TrustedKeys
    datasets: frozenset[str] | None = None
    deadline_s: float = 5.0
    retries: int = 2
    failure_threshold: int = 5
    recovery_s: float = 30.0
    max_connections: int = 64


@dataclass
class Exchange:
    """One call to one agency, as the audit log records it.

    Attributes:
        agency_id: The agency called.
        request_digest: Hex SHA-256 of the last request JWS sent.
        response_digest: Hex SHA-256 of the last response body received (signed or not).
        http_status: The last HTTP status received.
        attempts: How many requests were sent (retries after connection errors).
    """

    agency_id: str
    request_digest: str | None = None
    response_digest: str | None = None
    http_status: int | None = None
    attempts: int = 0


_EXCHANGES: contextvars.ContextVar[list[Exchange] | None] = contextvars.ContextVar(
    "connector_exchanges", default=None
)


@contextlib.contextmanager
def capture_exchanges() -> Iterator[list[Exchange]]:
    """Collect the :class:`Exchange` of every remote fetch made inside the block.

    Tasks started inside the block (a fan-out) report into the same list, each
    exchange naming its agency; in-process connectors report nothing::

        with capture_exchanges() as exchanges:
            results = await asyncio.gather(*(c.fetch(r) for c in connectors))
    """
    exchanges: list[Exchange] = []
    token = _EXCHANGES.set(exchanges)
    try:
        yield exchanges
    finally:
        _EXCHANGES.reset(token)


class RemoteConnector:
    """A :class:`~connectors.sdk.Connector` for an agency reached over signed HTTP.

    Use it on one event loop; call :meth:`aclose` on shutdown.
    """

    transport = "http"

    def __init__(self, agency: RemoteAgency, gateway_key: MessageKey) -> None:
        self.agency = agency
        self._key = gateway_key
        self._fetch_url = agency.url.rstrip("/") + "/v1/fetch"
        self._control_url = agency.url.rstrip("/") + "/v1/control"
        kind = agency.identity.kind
        self._datasets = agency.datasets or frozenset(
            name for name, spec in DATASETS.items() if spec.agency_kind == kind
        )
        self._session: aiohttp.ClientSession | None = None
        self._breaker: AsyncCircuitBreaker | None = None
        # Cancellation (the caller gave up) and refusals (the agency is up and
        # said no) say nothing about the agency's health.
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=agency.failure_threshold,
            default_ttl=agency.recovery_s,
            exclude=[asyncio.CancelledError, AgencyRejected],
        )
        self._window = CallWindow()
        self._retrying = AsyncRetrying(
            stop=stop_after_attempt(agency.retries + 1),
            wait=wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
            retry=retry_if_exception_type(aiohttp.ClientConnectionError),
            reraise=True,
        )
        # A fetch's first attempt runs outside tenacity (see _fetch_within_deadline);
        # its retries keep the schedule above: attempt k here is attempt k + 1 there,
        # so the first wait is the one above for attempt 1 and the multiplier doubles.
        self._first_retry_wait = wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05)
        self._retries_after_first = AsyncRetrying(
            stop=stop_after_attempt(max(agency.retries, 1)),
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.05),
            retry=retry_if_exception_type(aiohttp.ClientConnectionError),
            reraise=True,
        )

    @property
    def identity(self) -> AgencyIdentity:
        """The agency this connector calls."""
        return self.agency.identity

    @property
    def datasets(self) -> frozenset[str]:
        """The datasets the agency serves (from configuration)."""
        return self._datasets

    @property
    def controlled(self) -> frozenset[str]:
        """The datasets it serves on which measures may be ordered."""
        return self._datasets & frozenset(CONTROLLED_DATASETS)

    async def submit(self, order: MeasureOrder) -> MeasureReport:
        """Send an order (idempotent by measure id, so retried on connection errors).

        Raises:
            AgencyRejected, AgencyUnavailable, AgencyTimeout, BadAgencyResponse:
                as for :meth:`fetch`.
        """
        reports = await self._control(order, ())
        if len(reports) != 1 or reports[0].measure_id != order.measure_id:
            raise BadAgencyResponse("answered for another measure", agency_id=self.identity.id)
        return reports[0]

    async def reports(self, measure_ids: Sequence[str]) -> list[MeasureReport]:
        """Poll the agency for the reports of measures submitted before.

        Raises:
            AgencyRejected, AgencyUnavailable, AgencyTimeout, BadAgencyResponse:
                as for :meth:`fetch`.
        """
        reports = await self._control(None, tuple(measure_ids))
        if not {report.measure_id for report in reports} <= set(measure_ids):
            raise BadAgencyResponse("reported measures not asked", agency_id=self.identity.id)
        return reports

    async def _control(
        self, order: MeasureOrder | None, measure_ids: tuple[str, ...]
    ) -> list[MeasureReport]:
        agency_id = self.identity.id
        exchange = Exchange(agency_id)
        sink = _EXCHANGES.get()
        if sink is not None:
            sink.append(exchange)
        deadline = asyncio.get_running_loop().time() + self.agency.deadline_s
        try:
            async with asyncio.timeout_at(deadline):
                retrying = self._retrying.copy()
                return await retrying(self._control_attempt, order, measure_ids, exchange, deadline)
        except TimeoutError:
            raise AgencyTimeout(
                f"no answer within {self.agency.deadline_s:g} s", agency_id=agency_id
            ) from None
        except aiohttp.ClientConnectionError:
            raise AgencyUnavailable("cannot connect to the agency", agency_id=agency_id) from None
        except aiohttp.ClientError:
            raise AgencyUnavailable("the HTTP exchange failed", agency_id=agency_id) from None

    async def _control_attempt(
        self,
        order: MeasureOrder | None,
        measure_ids: tuple[str, ...],
        exchange: Exchange,
        deadline: float,
    ) -> list[MeasureReport]:
        remaining_s = deadline - asyncio.get_running_loop().time()
        signed = sign_control(
            self._key,
            agency_id=self.identity.id,
            deadline_s=remaining_s,
            order=order,
            measure_ids=measure_ids,
        )
        status, media_type, body = await self._post(
            self._control_url, signed.token, signed.digest, exchange
        )
        return self._interpret_control(signed, status, media_type, body)

    def _interpret_control(
        self, signed: SignedControl, status: int, media_type: str, body: bytes
    ) -> list[MeasureReport]:
        agency_id = self.identity.id
        if media_type == CONTENT_TYPE and (status == 200 or status >= 422):
            try:
                response = verify_control_response(
                    body.decode("ascii"), self.agency.agency_keys, request=signed
                )
            except (EnvelopeError, UnicodeDecodeError) as error:
                if status == 200:
                    raise BadAgencyResponse(_describe(error), agency_id=agency_id) from None
            else:
                if response.error is not None:
                    error_class = _ERRORS.get(response.error.code, BadAgencyResponse)
                    raise error_class(
                        response.error.message[:_MAX_AGENCY_MESSAGE], agency_id=agency_id
                    )
                if response.reports is None or status != 200:
                    raise BadAgencyResponse("reports with an error status", agency_id=agency_id)
                if any(report.agency_id != agency_id for report in response.reports):
                    raise BadAgencyResponse("reported for another agency", agency_id=agency_id)
                return list(response.reports)
        if status == 404:
            raise AgencyRejected("the agency takes no control measures", agency_id=agency_id)
        if status >= 500:
            raise AgencyUnavailable(f"HTTP {status}", agency_id=agency_id)
        if 400 <= status < 500:
            raise AgencyRejected(f"refused the request (HTTP {status})", agency_id=agency_id)
        raise BadAgencyResponse(f"unexpected HTTP {status}", agency_id=agency_id)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Ask the agency, under its circuit breaker and deadline.

        Raises:
            AgencyUnavailable: unreachable, 5xx, or the circuit is open.
            AgencyTimeout: no verified answer within ``deadline_s``.
            AgencyRejected: the agency refused the request.
            BadAgencyResponse: a wrong signature or request hash, malformed JSON,
                the wrong media type, or records not asked for.
        """
        exchange = Exchange(self.identity.id)
        sink = _EXCHANGES.get()
        if sink is not None:
            sink.append(exchange)
        breaker = self._breaker or await self._breakers.get_breaker(self.identity.id)
        self._breaker = breaker
        started = time.perf_counter()
        try:
            async with breaker:
                result = await self._fetch_within_deadline(request, exchange)
        except OpenedState:
            raise AgencyUnavailable(
                "circuit open after repeated failures", agency_id=self.identity.id
            ) from None
        except ConnectorError as error:
            if not isinstance(error, AgencyRejected):
                elapsed = (time.perf_counter() - started) * 1000
                self._window.failed(elapsed, error.code, error.message)
            raise
        self._window.succeeded((time.perf_counter() - started) * 1000)
        return result

    async def _fetch_within_deadline(
        self, request: FetchRequest, exchange: Exchange
    ) -> FetchResult:
        agency_id = self.identity.id
        deadline = asyncio.get_running_loop().time() + self.agency.deadline_s
        try:
            async with asyncio.timeout_at(deadline):
                try:
                    # The first attempt runs bare: tenacity's state machine costs
                    # ~30 us a call, and nearly every fetch succeeds at once.
                    return await self._attempt(request, exchange, deadline)
                except aiohttp.ClientConnectionError:
                    if self.agency.retries < 1:
                        raise
                first = RetryCallState(self._retries_after_first, None, (), {})
                await asyncio.sleep(self._first_retry_wait(first))
                # A copy per fetch: a Retrying object keeps its iteration state in a
                # thread-local, which concurrent fetches on one loop would share.
                retrying = self._retries_after_first.copy()
                return await retrying(self._attempt, request, exchange, deadline)
        except TimeoutError:
            raise AgencyTimeout(
                f"no answer within {self.agency.deadline_s:g} s", agency_id=agency_id
            ) from None
        except aiohttp.ClientConnectionError:
            raise AgencyUnavailable("cannot connect to the agency", agency_id=agency_id) from None
        except aiohttp.ClientResponseError:
            raise BadAgencyResponse("not a valid HTTP response", agency_id=agency_id) from None
        except aiohttp.ClientError:
            raise AgencyUnavailable("the HTTP exchange failed", agency_id=agency_id) from None

    async def _attempt(
        self, request: FetchRequest, exchange: Exchange, deadline: float
    ) -> FetchResult:
        remaining_s = deadline - asyncio.get_running_loop().time()
        # A fresh envelope (new message id) per attempt: the agency refuses replays.
        signed = sign_request(
            self._key, request, agency_id=self.identity.id, deadline_s=remaining_s
        )
        status, media_type, body = await self._post(
            self._fetch_url, signed.token, signed.digest, exchange
        )
        return self._interpret(signed, status, media_type, body)

    async def _post(
        self, url: str, token: str, token_digest: str, exchange: Exchange
    ) -> tuple[int, str, bytes]:
        """POST one signed envelope; its status, media type and body, noted in ``exchange``."""
        exchange.attempts += 1
        exchange.request_digest = token_digest
        exchange.response_digest = exchange.http_status = None
        session = self._session_on_this_loop()
        async with session.post(url, data=token.encode("ascii"), headers=_HEADERS) as response:
            body = await self._read_body(response)
            exchange.http_status = response.status
            exchange.response_digest = hashlib.sha256(body).hexdigest()
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            return response.status, media_type, body

    def _session_on_this_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.agency.max_connections),
                # Deadlines are enforced by asyncio.timeout around the whole fetch.
                timeout=aiohttp.ClientTimeout(total=None),
                raise_for_status=False,
            )
        return self._session

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        if (response.content_length or 0) > MAX_MESSAGE_BYTES:
            raise BadAgencyResponse("answer too large", agency_id=self.identity.id)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65_536):
            size += len(chunk)
            if size > MAX_MESSAGE_BYTES:
                raise BadAgencyResponse("answer too large", agency_id=self.identity.id)
            chunks.append(chunk)
        return b"".join(chunks)

    def _interpret(
        self, signed: SignedRequest, status: int, media_type: str, body: bytes
    ) -> FetchResult:
        agency_id = self.identity.id
        if status == 200 and media_type != CONTENT_TYPE:
            raise BadAgencyResponse(
                f"answered {media_type or 'no media type'}", agency_id=agency_id
            )
        if media_type == CONTENT_TYPE and (status == 200 or status >= 422):
            try:
                response = verify_response(
                    body.decode("ascii"), self.agency.agency_keys, request=signed
                )
            except (EnvelopeError, UnicodeDecodeError) as error:
                if status == 200:
                    raise BadAgencyResponse(_describe(error), agency_id=agency_id) from None
            else:
                if response.error is not None:
                    error_class = _ERRORS.get(response.error.code, BadAgencyResponse)
                    message = response.error.message[:_MAX_AGENCY_MESSAGE]
                    raise error_class(message, agency_id=agency_id)
                if response.result is None or status != 200:
                    raise BadAgencyResponse("a result with an error status", agency_id=agency_id)
                check_answer(response.result, signed.request, self.identity)
                return response.result
        if status == 504:
            raise AgencyTimeout("the agency's proxy timed out", agency_id=agency_id)
        if status >= 500:
            raise AgencyUnavailable(f"HTTP {status}", agency_id=agency_id)
        if 400 <= status < 500:
            raise AgencyRejected(f"refused the request (HTTP {status})", agency_id=agency_id)
        raise BadAgencyResponse(f"unexpected HTTP {status}", agency_id=agency_id)

    def status(self) -> AgencyStatus:
        """How the agency has been answering lately."""
        open_now = probing = False
        if self._breaker is not None and self._breaker.context.state != "closed":
            circuit = self._breaker.context
            # purgatory stamps opened_at with time.time().
            open_now = (
                circuit.state == "opened" and time.time() < (circuit.opened_at or 0) + circuit.ttl
            )
            probing = not open_now
        return self._window.status(circuit_open=open_now, probing=probing)

    async def aclose(self) -> None:
        """Close the connection pool (idempotent)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _describe(error: Exception) -> str:
    if isinstance(error, EnvelopeError):
        return f"{error.code}: {error}"
    return "the answer is not a JWS"


def check_answer(result: FetchResult, request: FetchRequest, identity: AgencyIdentity) -> None:
    """Refuse an answer with datasets, fields or value types nobody asked for.

    Raises:
        BadAgencyResponse: naming the first offence.
    """
    agency_id = identity.id
    if result.agency_id != agency_id:
        raise BadAgencyResponse("answered for another agency", agency_id=agency_id)
    if set(result.records) != set(request.datasets):
        raise BadAgencyResponse("answered other datasets than asked", agency_id=agency_id)
    for name, records in result.records.items():
        flat, nested = _allowed(request.datasets[name].fields)
        for record in records:
            for key, value in record.items():
                if key in flat:
                    allowed_value = _plain(value)
                elif key in nested:
                    allowed_value = isinstance(value, list) and all(
                        isinstance(item, dict)
                        and set(item) <= nested[key]
                        and all(_plain(v) for v in item.values())
                        for item in value
                    )
                else:
                    raise BadAgencyResponse(f"{name}: field {key} not asked", agency_id=agency_id)
                if not allowed_value:
                    raise BadAgencyResponse(f"{name}.{key}: unexpected value", agency_id=agency_id)


def _allowed(fields: frozenset[str]) -> tuple[set[str], dict[str, set[str]]]:
    flat: set[str] = set()
    nested: dict[str, set[str]] = {}
    for name in fields:
        head, _, sub = name.partition(".")
        if sub:
            nested.setdefault(head, set()).add(sub)
        else:
            flat.add(head)
    return flat, nested


def _plain(value: object) -> bool:
    """A scalar the catalog allows: no floats (money travels as a string), no containers."""
    return value is None or isinstance(value, str | int | bool)
