"""``credgate clients``: an operator creates, lists, rotates and disables OAuth clients,
and every change is an audited operator act."""

from __future__ import annotations

import re

import pytest

from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.cli import main
from tests.conftest import Gateway

FORM = {"grant_type": "client_credentials"}
OPERATOR_EVENTS = """
{ auditEvents(first: 50, filter: {kind: "outcome"}) { edges { node {
    outcome courtId principal { subject role } operatorAct { command clientId } entry
} } } }
"""


def _secret(out: str) -> str:
    match = re.search(r"^client_secret (\S+)$", out, re.MULTILINE)
    assert match, out
    return match.group(1)


def _cli(gateway: Gateway, *argv: str) -> int:
    return main([*argv, "--data-dir", str(gateway.settings.data_dir)])


async def _token_status(
    gateway: Gateway, client_id: str, secret: str
) -> tuple[int, dict[str, str]]:
    response = await gateway.http.post("/oauth/token", data=FORM, auth=(client_id, secret))
    return response.status_code, response.json()


async def test_add_rotate_disable_through_the_token_endpoint(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["clients", "add", "wz-officer-001", "--role", "officer", "--court", "court-wuzhi"]
    assert _cli(gateway, *add, "--officer", "officer-wz-001", "--operator", "carol") == 0
    first = _secret(capsys.readouterr().out)

    status, body = await _token_status(gateway, "wz-officer-001", first)
    assert status == 200
    assert set(body["scope"].split()) == {
        scopes.INVESTIGATE,
        scopes.CASES_READ,
        scopes.AGENCIES_READ,
        scopes.POLICY_EXPLAIN,
    }
    me = await gateway.graphql(body["access_token"], "{ me { role courtId officerId } }")
    assert me.json()["data"]["me"] == {
        "role": "officer",
        "courtId": "court-wuzhi",
        "officerId": "officer-wz-001",
    }

    assert _cli(gateway, "clients", "rotate-secret", "wz-officer-001", "--operator", "carol") == 0
    second = _secret(capsys.readouterr().out)
    assert second != first
    status, body = await _token_status(gateway, "wz-officer-001", first)
    assert (status, body["error"]) == (401, "invalid_client")
    assert (await _token_status(gateway, "wz-officer-001", second))[0] == 200

    assert _cli(gateway, "clients", "disable", "wz-officer-001", "--operator", "carol") == 0
    status, body = await _token_status(gateway, "wz-officer-001", second)
    assert (status, body["error"]) == (401, "invalid_client")
    assert "credentials are wrong" in body["error_description"]

    assert _cli(gateway, "clients", "list") == 0
    listing = capsys.readouterr().out
    assert re.search(
        r"^wz-officer-001 +officer +court-wuzhi +officer-wz-001 +disabled ", listing, re.M
    )
    assert first not in listing
    assert second not in listing

    # Each change is on record, with the operator and the client, never the secret.
    client_id, secret = gateway.register("auditor", Role.AUDITOR, {scopes.AUDIT_READ})
    token = await gateway.token(client_id, secret)
    edges = (await gateway.graphql(token, OPERATOR_EVENTS)).json()["data"]["auditEvents"]["edges"]
    acts = [edge["node"] for edge in edges if edge["node"]["operatorAct"]]
    assert [(a["operatorAct"]["command"], a["operatorAct"]["clientId"]) for a in acts] == [
        ("clients add", "wz-officer-001"),
        ("clients rotate-secret", "wz-officer-001"),
        ("clients disable", "wz-officer-001"),
    ]
    assert {(a["principal"]["subject"], a["principal"]["role"], a["courtId"]) for a in acts} == {
        ("carol", "operator", "court-wuzhi")
    }
    for act in acts:
        assert first not in act["entry"]
        assert second not in act["entry"]
    assert '"disabled":true' in acts[2]["entry"]


async def test_an_agency_client_with_chosen_scopes(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["clients", "add", "icbc", "--role", "agency", "--agency", "bank-icbc"]
    assert _cli(gateway, *add, "--scope", "list:lookup", "--scope", "list:sync") == 0
    status, body = await _token_status(gateway, "icbc", _secret(capsys.readouterr().out))
    assert status == 200
    assert body["scope"] == "list:lookup list:sync"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["x", "--role", "officer", "--officer", "o"], "officer clients need --court"),
        (["x", "--role", "officer", "--court", "c"], "needs --officer"),
        (["x", "--role", "agency"], "an agency client needs --agency"),
        (["x", "--role", "court-admin", "--court", "c", "--agency", "a"], "agency clients only"),
    ],
)
def test_add_refuses_what_the_role_cannot_have(
    gateway: Gateway, argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _cli(gateway, "clients", "add", *argv) == 2
    assert said in capsys.readouterr().err
    assert _cli(gateway, "clients", "list") == 0
    assert " x " not in capsys.readouterr().out


def test_a_taken_id_or_unknown_client_is_refused(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["clients", "add", "aud", "--role", "auditor"]
    assert _cli(gateway, *add) == 0
    assert _cli(gateway, *add) == 2
    assert "a client 'aud' (or named 'aud') exists" in capsys.readouterr().err
    assert _cli(gateway, "clients", "disable", "nobody") == 2
    assert "no client 'nobody'" in capsys.readouterr().err
