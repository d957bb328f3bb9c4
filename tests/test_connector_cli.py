"""``credgate connector keygen`` / ``gateway-key`` and remote agencies in credgate.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.remote import RemoteConnector
from connectors.signing import load_private_key, load_public_key
from gateway.agencies import build_agency_registry
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.cli import main
from gateway.errors import ConfigError
from gateway.keys import load_keys
from tests.conftest import prepare_deployment, serving


def test_keygen_writes_a_private_key_only_its_owner_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "agency" / "bank-icbc.pem"
    assert main(["connector", "keygen", "--key", str(key)]) == 0
    assert key.stat().st_mode & 0o777 == 0o600
    public = load_public_key(tmp_path / "agency" / "bank-icbc.pub.pem")
    assert load_private_key(key).public_key == public
    assert load_private_key(key).kid in capsys.readouterr().out
    assert main(["connector", "keygen", "--key", str(key)]) == 1  # never overwritten


def test_gateway_key_exports_the_request_signing_key(tmp_path: Path, sqlite_url: str) -> None:
    settings = prepare_deployment(tmp_path / "data", sqlite_url)
    out = tmp_path / "gateway.pub.pem"
    assert (
        main(["connector", "gateway-key", "--data-dir", str(settings.data_dir), "--out", str(out)])
        == 0
    )
    assert load_public_key(out) == load_keys(settings.keys_dir).gateway_signing.public_key


def _remote_config(public_key: Path, url: str = "http://127.0.0.1:9") -> str:
    return (
        '[agencies.bank-remote]\nkind = "bank"\nname = "远程银行"\n'
        f'url = "{url}"\npublic_key = "{public_key}"\ndeadline_s = 2\nretries = 1\n'
    )


def test_a_configured_url_makes_a_remote_connector(tmp_path: Path, sqlite_url: str) -> None:
    public = tmp_path / "bank.pub.pem"
    assert main(["connector", "keygen", "--key", str(tmp_path / "bank.pem")]) == 0
    settings = prepare_deployment(tmp_path / "data", sqlite_url, _remote_config(public))
    registry = build_agency_registry(settings)
    agency = registry.get("bank-remote")
    assert isinstance(agency.connector, RemoteConnector)
    assert agency.connector.agency.deadline_s == 2
    assert agency.connector.datasets == frozenset({"bank.accounts"})

    plain = prepare_deployment(
        tmp_path / "plain", sqlite_url, _remote_config(public, "http://bank.example")
    )
    with pytest.raises(ConfigError, match="https"):
        build_agency_registry(plain)


async def test_agencies_query_shows_transport_and_health(tmp_path: Path, sqlite_url: str) -> None:
    public = tmp_path / "bank.pub.pem"
    assert main(["connector", "keygen", "--key", str(tmp_path / "bank.pem")]) == 0
    settings = prepare_deployment(tmp_path / "data", sqlite_url, _remote_config(public))
    async with serving(settings) as gateway:
        officer = await gateway.token(
            *gateway.register(
                "o", Role.OFFICER, {scopes.AGENCIES_READ}, court_id="c", officer_id="o"
            )
        )
        agency = await gateway.token(
            *gateway.register("a", Role.AGENCY, {scopes.AGENCIES_READ}, agency_id="bank-remote")
        )
        query = "{ agencies { id transport status recentCalls lastError } }"
        listed = (await gateway.graphql(officer, query)).json()["data"]["agencies"]
        refused = (await gateway.graphql(agency, query)).json()
    assert listed == [
        {
            "id": "bank-remote",
            "transport": "http",
            "status": "UNKNOWN",
            "recentCalls": 0,
            "lastError": None,
        }
    ]
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
