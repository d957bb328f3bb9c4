"""The connector service refuses what it must and signs what it answers (real uvicorn)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from connectors.conformance import conformance_request
from connectors.sdk import (
    AgencyIdentity,
    AgencyUnavailable,
    DatasetQuery,
    FetchRequest,
    FetchResult,
    Subject,
)
from connectors.service import MAX_REQUEST_BYTES, ReplayCache, create_service
from connectors.signing import (
    CONTENT_TYPE,
    MessageKey,
    SignedRequest,
    TrustedKeys,
    now_ms,
    sign_request,
    verify_response,
)
from connectors.testing import DelayedConnector, RecordingConnector, StaticConnector
from tests.connectors.servers import key_pair, serving

IDENTITY = AgencyIdentity("tax-test", "tax", "测试税务局")
SUBJECT = Subject.resident("410802199001010010", "张三")
REFUND = {"tax_year": 2023, "amount": "80.00"}
QUERY = {"tax.refunds": DatasetQuery(frozenset({"amount"}))}


class _Crashing(StaticConnector):
    async def fetch(self, request: FetchRequest) -> FetchResult:
        raise RuntimeError("psycopg.OperationalError: password for user core_bank")


@dataclass
class Service:
    http: httpx.AsyncClient
    gateway: MessageKey
    agency_trust: TrustedKeys
    stranger: MessageKey
    slow: RecordingConnector
    urls: dict[str, str]

    def sign(self, request: FetchRequest | None = None, **kwargs: int | str) -> SignedRequest:
        key = kwargs.pop("key", self.gateway)
        assert isinstance(key, MessageKey)
        return sign_request(
            key,
            request or conformance_request(SUBJECT, QUERY),
            agency_id=str(kwargs.pop("agency_id", IDENTITY.id)),
            deadline_s=float(kwargs.pop("deadline_s", 5)),
            **kwargs,  # type: ignore[arg-type]
        )

    async def post(self, body: str | bytes, path: str = "/v1/fetch") -> httpx.Response:
        headers = {"Content-Type": CONTENT_TYPE}
        return await self.http.post(path, content=body, headers=headers)


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    directory = tmp_path_factory.mktemp("keys")
    gateway, gateway_trust = key_pair(directory, "gateway")
    agency, agency_trust = key_pair(directory, "agency")
    stranger, _ = key_pair(directory, "stranger")
    static = StaticConnector(IDENTITY, {SUBJECT.id_number: {"tax.refunds": [REFUND]}})
    slow = RecordingConnector(static)
    crashing = _Crashing(IDENTITY, {})
    with (
        serving(create_service(static, agency, gateway_trust)) as normal,
        serving(create_service(DelayedConnector(slow, 3600), agency, gateway_trust)) as delayed,
        serving(create_service(crashing, agency, gateway_trust)) as crash,
    ):
        yield {
            "keys": (gateway, agency_trust, stranger),
            "slow": slow,
            "urls": {"normal": normal.url, "slow": delayed.url, "crash": crash.url},
        }


@pytest.fixture(params=["normal"])
async def service(services: dict[str, object]) -> AsyncIterator[Service]:
    gateway, agency_trust, stranger = services["keys"]  # type: ignore[misc]
    urls: dict[str, str] = services["urls"]  # type: ignore[assignment]
    async with httpx.AsyncClient(base_url=urls["normal"]) as http:
        yield Service(http, gateway, agency_trust, stranger, services["slow"], urls)  # type: ignore[arg-type]


async def test_a_signed_request_gets_a_signed_answer_bound_to_it(service: Service) -> None:
    signed = service.sign()
    response = await service.post(signed.token)
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE
    answer = verify_response(response.text, service.agency_trust, request=signed)
    assert answer.request_sha256 == signed.digest
    assert answer.result == FetchResult(IDENTITY.id, {"tax.refunds": [{"amount": "80.00"}]})


async def test_health_and_datasets(service: Service) -> None:
    assert (await service.http.get("/v1/health")).json() == {
        "status": "ok",
        "agency_id": "tax-test",
    }
    datasets = (await service.http.get("/v1/datasets")).json()
    assert datasets["datasets"] == ["tax.refunds"]
    assert datasets["agency"] == {"id": "tax-test", "kind": "tax", "name": "测试税务局"}


@pytest.mark.parametrize(
    "body",
    [
        "not a jws",
        "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.",  # alg "none" (RFC 8725 §3.1 forbids it)
    ],
)
async def test_unsigned_requests_are_refused_with_401(service: Service, body: str) -> None:
    response = await service.post(body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BAD_SIGNATURE"


async def test_wrongly_signed_requests_are_refused_with_401(service: Service) -> None:
    by_stranger = service.sign(key=service.stranger).token
    head, payload, _ = service.sign().token.split(".")
    forged = f"{head}.{payload}.{by_stranger.split('.')[2]}"
    for_another_agency = service.sign(agency_id="bank-icbc").token
    for token in (by_stranger, forged, for_another_agency):
        response = await service.post(token)
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] == "BAD_SIGNATURE"


async def test_a_replayed_request_is_refused(service: Service) -> None:
    token = service.sign().token
    assert (await service.post(token)).status_code == 200
    replay = await service.post(token)
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "REPLAYED_REQUEST"


@pytest.mark.parametrize("offset_s", [-120, 120])
async def test_a_stale_request_is_refused(service: Service, offset_s: int) -> None:
    token = service.sign(issued_at_ms=now_ms() + offset_s * 1000).token
    response = await service.post(token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "STALE_REQUEST"


async def test_an_unserved_dataset_is_refused_with_a_signed_answer(service: Service) -> None:
    asked = conformance_request(SUBJECT, {"bank.accounts": DatasetQuery(frozenset({"balance"}))})
    signed = service.sign(asked)
    response = await service.post(signed.token)
    assert response.status_code == 422
    answer = verify_response(response.text, service.agency_trust, request=signed)
    assert answer.error is not None
    assert answer.error.code == "AGENCY_REJECTED"


async def test_wrong_media_type_and_oversized_bodies_are_refused(service: Service) -> None:
    plain = await service.http.post("/v1/fetch", json={"request": {}})
    assert plain.status_code == 415
    huge = await service.post(b"x" * (MAX_REQUEST_BYTES + 1))
    assert huge.status_code == 413


async def test_work_stops_at_the_propagated_deadline(service: Service) -> None:
    signed = service.sign(deadline_s=0.3)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=service.urls["slow"]) as http:
        response = await http.post(
            "/v1/fetch", content=signed.token, headers={"Content-Type": CONTENT_TYPE}
        )
    assert time.perf_counter() - started < 2.0
    assert response.status_code == 504
    answer = verify_response(response.text, service.agency_trust, request=signed)
    assert answer.error is not None
    assert answer.error.code == "AGENCY_TIMEOUT"
    assert not service.slow.called  # cancelled while waiting, never reached the data


async def test_a_crashing_connector_never_leaks_its_exception(service: Service) -> None:
    signed = service.sign()
    async with httpx.AsyncClient(base_url=service.urls["crash"]) as http:
        response = await http.post(
            "/v1/fetch", content=signed.token, headers={"Content-Type": CONTENT_TYPE}
        )
    assert response.status_code == 503
    assert "psycopg" not in response.text
    answer = verify_response(response.text, service.agency_trust, request=signed)
    assert answer.error is not None
    assert (answer.error.code, answer.error.message) == (AgencyUnavailable.code, "internal error")


def test_the_replay_cache_forgets_after_twice_the_window_and_is_bounded() -> None:
    now = [0.0]
    cache = ReplayCache(window_s=60, capacity=2, clock=lambda: now[0])
    assert cache.first_sighting("a")
    assert not cache.first_sighting("a")
    assert cache.first_sighting("b")
    with pytest.raises(OverflowError):
        cache.first_sighting("c")
    now[0] = 120.0
    assert cache.first_sighting("a")
    assert len(cache) == 1
