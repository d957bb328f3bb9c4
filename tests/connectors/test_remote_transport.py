"""The gateway's side of the signed transport against misbehaving agencies on 127.0.0.1.

Every fault gives a typed SDK error naming the agency, never an aiohttp error;
nothing in a rejected answer is used; nothing is left running or connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.agency_status import AgencyState
from connectors.conformance import conformance_request
from connectors.remote import RemoteAgency, RemoteConnector, capture_exchanges
from connectors.sdk import (
    AgencyIdentity,
    AgencyTimeout,
    AgencyUnavailable,
    BadAgencyResponse,
    ConnectorError,
    DatasetQuery,
    FetchRequest,
    Subject,
)
from connectors.service import create_service
from connectors.signing import MessageKey, TrustedKeys
from connectors.testing import StaticConnector
from tests.connectors.fake_agency import FakeAgency, answer_records
from tests.connectors.servers import ServerThread, bound_socket, free_port, key_pair, serving

IDENTITY = AgencyIdentity("tax-test", "tax", "测试税务局")
SUBJECT = Subject.resident("410802199001010010", "张三")
QUERY = {"tax.refunds": DatasetQuery(frozenset({"amount", "tax_year"}))}


@dataclass
class Keys:
    gateway: MessageKey
    gateway_trust: TrustedKeys
    agency: MessageKey
    agency_trust: TrustedKeys
    stranger: MessageKey


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    directory = tmp_path_factory.mktemp("keys")
    gateway, gateway_trust = key_pair(directory, "gateway")
    agency, agency_trust = key_pair(directory, "agency")
    stranger, _ = key_pair(directory, "stranger")
    return Keys(gateway, gateway_trust, agency, agency_trust, stranger)


@pytest.fixture(scope="module")
def fake(keys: Keys) -> Iterator[tuple[FakeAgency, ServerThread]]:
    agency = FakeAgency(IDENTITY.id, keys.agency, keys.gateway_trust, keys.stranger)
    with serving(agency.app) as server:
        yield agency, server


def request(request_id: str = "r-1") -> FetchRequest:
    return conformance_request(SUBJECT, QUERY, request_id=request_id)


@contextlib.asynccontextmanager
async def remote(keys: Keys, url: str, **settings: float | int) -> AsyncIterator[RemoteConnector]:
    connector = RemoteConnector(
        RemoteAgency(IDENTITY, url, keys.agency_trust, **settings),  # type: ignore[arg-type]
        keys.gateway,
    )
    try:
        yield connector
    finally:
        await connector.aclose()


async def test_a_correct_answer_is_returned_with_its_digests(
    keys: Keys, fake: tuple[FakeAgency, ServerThread]
) -> None:
    agency, server = fake
    agency.mode = "ok"
    async with remote(keys, server.url) as connector:
        with capture_exchanges() as exchanges:
            result = await connector.fetch(request())
        status = connector.status()
    assert result.records == answer_records(request())
    [exchange] = exchanges
    assert exchange.agency_id == IDENTITY.id
    assert exchange.request_digest == agency.request_digests[-1]
    assert exchange.response_digest is not None
    assert exchange.http_status == 200
    assert status.state is AgencyState.UP
    assert status.latency_p50_ms is not None


FAULTS = [
    ("bad_signature", BadAgencyResponse, "not trusted"),
    ("forged_signature", BadAgencyResponse, "does not verify"),
    ("other_request", BadAgencyResponse, "another request"),
    ("unasked_field", BadAgencyResponse, "internal_note not asked"),
    ("unasked_dataset", BadAgencyResponse, "other datasets"),
    ("float_value", BadAgencyResponse, "unexpected value"),
    ("malformed_json", BadAgencyResponse, "not JSON"),
    ("not_jws", BadAgencyResponse, "not a JWS"),
    ("json_media_type", BadAgencyResponse, "application/json"),
    ("status_500", AgencyUnavailable, "HTTP 500"),
    ("signed_unavailable", AgencyUnavailable, "core banking is down"),
    ("slow", AgencyTimeout, "no answer within 0.2 s"),
]


@pytest.mark.parametrize(("mode", "error", "message"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_each_fault_is_a_typed_error_for_that_agency(
    keys: Keys,
    fake: tuple[FakeAgency, ServerThread],
    mode: str,
    error: type[ConnectorError],
    message: str,
) -> None:
    agency, server = fake
    agency.mode = mode
    async with remote(keys, server.url, deadline_s=0.2) as connector:
        with capture_exchanges() as exchanges, pytest.raises(error, match=message) as caught:
            await connector.fetch(request())
        assert connector.status().last_error == f"{error.code}: {caught.value.message}"
    assert caught.value.agency_id == IDENTITY.id
    assert exchanges[0].request_digest is not None
    if mode != "slow":
        assert exchanges[0].response_digest is not None


async def test_only_connection_errors_are_retried(
    keys: Keys, fake: tuple[FakeAgency, ServerThread]
) -> None:
    agency, server = fake
    agency.mode = "status_500"
    before = agency.requests
    async with remote(keys, server.url, retries=2) as connector:
        with pytest.raises(AgencyUnavailable):
            await connector.fetch(request())
    assert agency.requests - before == 1

    accepted = 0

    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    dropper = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = dropper.sockets[0].getsockname()[1]
    async with dropper, remote(keys, f"http://127.0.0.1:{port}", retries=2) as connector:
        with capture_exchanges() as exchanges, pytest.raises(AgencyUnavailable):
            await connector.fetch(request())
    assert accepted == 3
    assert exchanges[0].attempts == 3


async def test_a_connection_dropped_once_is_retried_and_answered(
    keys: Keys, fake: tuple[FakeAgency, ServerThread]
) -> None:
    # The first attempt fails outside tenacity; the retry through it gets the answer.
    agency, server = fake
    agency.mode = "ok"
    accepted = 0

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65_536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def drop_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        if accepted == 1:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", server.port)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    proxy = await asyncio.start_server(drop_first, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    async with proxy, remote(keys, f"http://127.0.0.1:{port}", retries=2) as connector:
        with capture_exchanges() as exchanges:
            result = await connector.fetch(request())
    assert result.records == answer_records(request())
    assert exchanges[0].attempts == 2
    assert accepted == 2


@pytest.mark.parametrize("retries", [0, 1])
async def test_a_dropped_connection_is_tried_retries_plus_one_times(
    keys: Keys, retries: int
) -> None:
    # The first attempt runs outside tenacity, the retries through it: together
    # exactly retries + 1 connections, and none when no retry is configured.
    accepted = 0

    async def hang_up(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    dropper = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = dropper.sockets[0].getsockname()[1]
    async with dropper, remote(keys, f"http://127.0.0.1:{port}", retries=retries) as connector:
        with capture_exchanges() as exchanges, pytest.raises(AgencyUnavailable):
            await connector.fetch(request())
    assert accepted == retries + 1
    assert exchanges[0].attempts == retries + 1


async def test_an_agency_that_never_answers_is_bounded_by_the_deadline(keys: Keys) -> None:
    # Listening but never accepting: the kernel completes the handshake and
    # buffers the request, and no answer ever comes.
    with contextlib.closing(bound_socket()) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        async with remote(keys, url, deadline_s=0.3) as connector:
            started = time.perf_counter()
            with pytest.raises(AgencyTimeout):
                await connector.fetch(request())
    assert time.perf_counter() - started < 2.0


async def test_a_down_agency_opens_the_circuit_and_recovers(keys: Keys, tmp_path: Path) -> None:
    port = free_port()
    settings = {"retries": 1, "failure_threshold": 3, "recovery_s": 0.3}
    async with remote(keys, f"http://127.0.0.1:{port}", **settings) as connector:
        for _ in range(3):
            with pytest.raises(AgencyUnavailable, match="cannot connect"):
                await connector.fetch(request())
        assert connector.status().state is AgencyState.CIRCUIT_OPEN
        started = time.perf_counter()
        with pytest.raises(AgencyUnavailable, match="circuit open"):
            await connector.fetch(request())
        assert time.perf_counter() - started < 0.5  # failed fast: no connection, no retry backoff

        static = StaticConnector(IDENTITY, {SUBJECT.id_number: {"tax.refunds": []}})
        with serving(create_service(static, keys.agency, keys.gateway_trust), port):
            with pytest.raises(AgencyUnavailable, match="circuit open"):
                await connector.fetch(request())  # still open: the agency is not asked yet
            await asyncio.sleep(settings["recovery_s"])  # the recovery timeout itself
            result = await connector.fetch(request())
            assert result.records == {"tax.refunds": []}
            status = connector.status()
    assert status.state is AgencyState.DEGRADED  # closed again; failures still in the window
    assert status.recent_failures == 3
    assert status.latency_p50_ms is not None


def established_to(port: int) -> int:
    """Client-side TCP connections of this host to ``port`` that are still open."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[3] == "01":  # 01: ESTABLISHED
            count += 1
    return count


async def test_a_thousand_fetches_against_a_flapping_agency_leave_nothing_behind(
    keys: Keys, fake: tuple[FakeAgency, ServerThread]
) -> None:
    agency, server = fake
    agency.mode = "flap"
    tasks_before = len(asyncio.all_tasks())
    outcomes: dict[str, int] = {}
    gate = asyncio.Semaphore(50)

    async def one(index: int) -> None:
        async with gate:
            try:
                await connector.fetch(request(f"flap-{index}"))
                code = "OK"
            except ConnectorError as error:
                code = error.code
            outcomes[code] = outcomes.get(code, 0) + 1

    settings = {"deadline_s": 0.2, "failure_threshold": 100_000, "max_connections": 32}
    async with remote(keys, server.url, **settings) as connector:
        await asyncio.gather(*(one(i) for i in range(1000)))
        assert len(asyncio.all_tasks()) == tasks_before
        assert established_to(server.port) <= 32  # only the pool's idle connections
    assert established_to(server.port) == 0
    assert sum(outcomes.values()) == 1000
    assert set(outcomes) == {"OK", "AGENCY_UNAVAILABLE", "BAD_AGENCY_RESPONSE", "AGENCY_TIMEOUT"}


async def test_the_request_digest_is_the_hash_of_the_exact_jws(
    keys: Keys, fake: tuple[FakeAgency, ServerThread]
) -> None:
    agency, server = fake
    agency.mode = "ok"
    async with remote(keys, server.url) as connector:
        with capture_exchanges() as exchanges:
            await asyncio.gather(connector.fetch(request("a")), connector.fetch(request("b")))
    assert {e.request_digest for e in exchanges} == set(agency.request_digests[-2:])
    assert all(len(e.response_digest or "") == len(hashlib.sha256().hexdigest()) for e in exchanges)
