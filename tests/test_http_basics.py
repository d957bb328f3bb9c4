"""The edge of the gateway: health, readiness, JSON-only GraphQL, limits."""

from __future__ import annotations

import pytest

from gateway.auth import scopes
from gateway.auth.principal import Role
from tests.conftest import Gateway


@pytest.fixture
async def officer_token(gateway: Gateway) -> str:
    client_id, secret = gateway.register(
        "officer", Role.OFFICER, {scopes.INVESTIGATE}, court_id="court-a", officer_id="o-1"
    )
    return await gateway.token(client_id, secret)


async def test_health_and_readiness(gateway: Gateway) -> None:
    assert (await gateway.http.get("/healthz")).json() == {"status": "ok"}
    ready = await gateway.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"]["ok"] is True


async def test_me_returns_the_principal(gateway: Gateway, officer_token: str) -> None:
    response = await gateway.graphql(
        officer_token, "{ me { role courtId officerId scopes clientId } }"
    )
    assert response.status_code == 200, response.text
    me = response.json()["data"]["me"]
    assert me["role"] == "officer"
    assert me["courtId"] == "court-a"
    assert me["officerId"] == "o-1"
    assert me["scopes"] == ["investigate"]
    assert response.headers["x-request-id"]


async def test_get_queries_are_refused(gateway: Gateway, officer_token: str) -> None:
    response = await gateway.http.get(
        "/graphql",
        params={"query": "{ me { role } }"},
        headers={"Authorization": f"Bearer {officer_token}"},
    )
    assert response.status_code == 405


async def test_form_posts_are_refused(gateway: Gateway, officer_token: str) -> None:
    response = await gateway.http.post(
        "/graphql",
        data={"query": "{ me { role } }"},
        headers={"Authorization": f"Bearer {officer_token}"},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "Batched"),
        (b'[{"query": "{ me { role } }"}]', "Batched"),
        (b'"text"', "JSON object"),
        (b'{"query": 5}', "'query'"),
        (b'{"query": "{ me { role } }", "variables": []}', "'variables'"),
    ],
)
async def test_malformed_requests_are_400(
    gateway: Gateway, officer_token: str, body: bytes, message: str
) -> None:
    response = await gateway.http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {officer_token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]


async def test_malformed_graphql_is_400_with_message(gateway: Gateway, officer_token: str) -> None:
    response = await gateway.graphql(officer_token, "{ me { role ")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "Syntax Error" in error["message"]


async def test_unknown_field_gets_no_suggestion(gateway: Gateway, officer_token: str) -> None:
    response = await gateway.graphql(officer_token, "{ me { rol } }")
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "Cannot query field 'rol'" in message
    assert "Did you mean" not in message


async def test_introspection_is_off_by_default(gateway: Gateway, officer_token: str) -> None:
    response = await gateway.graphql(officer_token, "{ __schema { types { name } } }")
    assert response.status_code == 400
    assert "introspection" in response.json()["errors"][0]["message"].lower()


async def test_alias_limit(gateway: Gateway, officer_token: str) -> None:
    aliases = " ".join(f"a{i}: me {{ role }}" for i in range(16))
    response = await gateway.graphql(officer_token, f"{{ {aliases} }}")
    assert response.status_code == 400
    assert "aliases" in response.json()["errors"][0]["message"]


async def test_token_limit(gateway: Gateway, officer_token: str) -> None:
    fields = " ".join("role" for _ in range(1100))
    response = await gateway.graphql(officer_token, f"{{ me {{ {fields} }} }}")
    assert response.status_code == 400
    assert "tokens" in response.json()["errors"][0]["message"]


async def test_body_size_limit(gateway: Gateway, officer_token: str) -> None:
    response = await gateway.http.post(
        "/graphql",
        content=b'{"query": "' + b" " * 2_000_000 + b'{ me { role } }"}',
        headers={"Authorization": f"Bearer {officer_token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_bad_variable_value_is_400_with_message(gateway: Gateway, officer_token: str) -> None:
    response = await gateway.graphql(
        officer_token, "query ($n: Int!) { me { role } }", {"n": "not a number"}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "$n" in error["message"]


async def test_parsing_and_validation_are_cached_across_requests(
    gateway: Gateway, officer_token: str
) -> None:
    from gateway.schema.prepared import _parse, _validate

    query = "{ me { role courtId } }"
    await gateway.graphql(officer_token, query)
    parsed, validated = _parse.cache_info().hits, _validate.cache_info().hits
    second = await gateway.graphql(officer_token, query)
    assert second.status_code == 200
    assert _parse.cache_info().hits == parsed + 1
    assert _validate.cache_info().hits == validated + 1
