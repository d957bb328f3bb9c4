"""``credgate demo --remote``: six connector processes, the gateway reaching them over
signed HTTP; stopping one leaves the others answering; all stop with the demo."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path
from typing import Any

import httpx

from connectors.demo import DEMO_AGENCIES
from gateway.app import create_app
from gateway.demo import prepare_demo
from gateway.demo_remote import DemoConnector, remote_demo_agencies
from tests.conftest import PUBLIC_URL
from tests.connectors.servers import free_port


def _free_run(length: int) -> int:
    """The first of ``length`` consecutive free loopback ports (bounded search)."""
    for _ in range(50):
        first = free_port()
        with contextlib.ExitStack() as stack:
            try:
                for port in range(first, first + length):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return first
    raise AssertionError("no run of free ports")


async def _investigate(http: httpx.AsyncClient, token: str, example: dict[str, Any]) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": example["query"], "variables": example["variables"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_remote_demo_agencies_answer_and_one_can_stop(tmp_path: Path) -> None:
    setup = prepare_demo(tmp_path / "demo", 8000)
    officer = setup.clients["officer"]
    example = setup.extra["investigation_example"]
    processes: list[DemoConnector] = []
    with remote_demo_agencies(setup.settings, _free_run(len(DEMO_AGENCIES))) as (
        settings,
        connectors,
    ):
        processes = connectors
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http,
        ):
            form = {"grant_type": "client_credentials"}
            auth = (officer["client_id"], officer["client_secret"])
            token = (await http.post("/oauth/token", data=form, auth=auth)).json()["access_token"]
            agencies = await http.post(
                "/graphql",
                json={"query": "{ agencies { id transport status } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            listed = agencies.json()["data"]["agencies"]
            assert {a["transport"] for a in listed} == {"http"}
            assert len(listed) == len(DEMO_AGENCIES) == 9

            whole = await _investigate(http, token, example)
            assert "errors" not in whole, whole.get("errors")

            bank = next(c for c in connectors if c.identity.id == "bank-icbc")
            bank.process.terminate()
            bank.process.wait(10)
            partial = await _investigate(http, token, example)
    codes = {(e["extensions"]["agency"], e["extensions"]["code"]) for e in partial["errors"]}
    assert codes == {("bank-icbc", "AGENCY_UNAVAILABLE")}
    found = partial["data"]["investigation"]
    assert found["taxRefunds"]
    assert found["household"]
    assert all(process.process.poll() is not None for process in processes)
