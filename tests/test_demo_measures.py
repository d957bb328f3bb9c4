"""The issue 12 demo flow, as demo.json and the README give it: the officer investigates,
freezes one account found, sees it accepted then executed with the amount, renews it,
deducts part of it, and the auditor finds each step; then seals up a property the
investigation found at the registration centre and releases the seal. Against a real `credgate demo`
process over HTTP, and against the demo with its agencies as remote connector services."""

from __future__ import annotations

import datetime
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.demo import prepare_demo
from gateway.demo_remote import remote_demo_agencies
from tests.conftest import PUBLIC_URL
from tests.test_demo_flows import Demo
from tests.test_demo_flows import demo as demo  # The module's own demo process.
from tests.test_demo_remote import _free_run

Ask = Callable[[str, dict[str, Any]], Awaitable[Any]]
AMOUNT = re.compile(r"^\d+\.\d{2}$")


async def measure_flow(ask: Ask, document: dict[str, Any]) -> None:
    """The README's walk through the demo's measures; ``ask(client, body)`` posts GraphQL."""
    examples = document["measures"]
    found = await ask("officer", document["investigation_example"])
    accounts = {a["accountNumber"] for a in found["data"]["investigation"]["bankAccounts"]}
    freeze = examples["freeze_example"]
    assert freeze["variables"]["input"]["assetKey"] in accounts

    ordered = await ask("officer", freeze)
    assert "errors" not in ordered, ordered
    assert ordered["data"]["freeze"]["status"] == "ACCEPTED"
    executed = (await ask("officer", examples["measure_example"]))["data"]["measure"]
    assert executed["status"] == "EXECUTED"
    assert executed["amount"] == "20000.00"
    assert executed["agencyReference"]

    renewal = (await ask("officer", examples["renew_example"]))["data"]["renewFreeze"]
    assert renewal["status"] == "ACCEPTED"
    follow = {"query": examples["measure_example"]["query"], "variables": {"id": renewal["id"]}}
    assert (await ask("officer", follow))["data"]["measure"]["status"] == "EXECUTED"

    deduction = (await ask("officer", examples["deduct_example"]))["data"]["deduct"]
    follow = {"query": examples["measure_example"]["query"], "variables": {"id": deduction["id"]}}
    taken = (await ask("officer", follow))["data"]["measure"]
    assert taken["status"] == "EXECUTED"
    assert taken["amount"] == "5000.00"

    mine = (await ask("officer", examples["my_measures_example"]))["data"]["myMeasures"]
    assert {m["id"] for m in mine} >= {executed["id"], renewal["id"], deduction["id"]}
    events = (await ask("auditor", examples["audit_example"]))["data"]["auditEvents"]["edges"]
    steps = {(s["step"], s["status"]) for e in events for s in e["node"]["measures"]}
    assert {("ordered", "submitted"), ("answered", "accepted"), ("reported", "executed")} <= steps
    rulings = {s["ruling"]["number"] for e in events for s in e["node"]["measures"]}
    assert rulings == {freeze["variables"]["input"]["ruling"]["number"]}

    rights = found["data"]["investigation"]["realEstateRights"]
    seal = examples["seal_up_example"]
    assert seal["variables"]["input"]["assetKey"] in {r["certificateNumber"] for r in rights}
    sealed = await ask("officer", seal)
    assert "errors" not in sealed, sealed
    assert sealed["data"]["sealUp"]["status"] == "ACCEPTED"
    assert sealed["data"]["sealUp"]["amount"] is None
    held = (await ask("officer", examples["seal_measure_example"]))["data"]["measure"]
    assert held["status"] == "EXECUTED"
    assert held["agencyReference"]
    # Real estate: at most three years (SPC interpretation of the CPL, art. 487).
    ordered_on = datetime.date.fromisoformat(seal["variables"]["input"]["notice"]["date"])
    assert datetime.date.fromisoformat(held["effectiveUntil"]) > ordered_on
    again = await ask(
        "officer",
        {
            **seal,
            "variables": {"input": {**seal["variables"]["input"], "requestId": "demo-seal-0002"}},
        },
    )
    assert again["errors"][0]["extensions"]["code"] == "ALREADY_UNDER_MEASURE"
    assert again["errors"][0]["extensions"]["existingMeasureId"] == held["id"]
    release = (await ask("officer", examples["release_seal_example"]))["data"]["releaseSeal"]
    follow = {"query": examples["measure_example"]["query"], "variables": {"id": release["id"]}}
    assert (await ask("officer", follow))["data"]["measure"]["status"] == "EXECUTED"
    assert (await ask("officer", examples["seal_measure_example"]))["data"]["measure"][
        "status"
    ] == "RELEASED"


async def test_the_measure_flow_on_the_demo(demo: Demo) -> None:
    async def ask(client: str, body: dict[str, Any]) -> Any:
        return demo.graphql(demo.token(client), body["query"], body.get("variables"))

    await measure_flow(ask, demo.document)


@pytest.fixture
def remote_demo(tmp_path: Path) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The demo's gateway app with its agencies as connector services on loopback ports."""
    setup = prepare_demo(tmp_path / "demo", 8000)
    with remote_demo_agencies(setup.settings, _free_run(9)) as (settings, _):
        yield create_app(settings), {**setup.document()}


async def test_the_measure_flow_through_demo_remote(
    remote_demo: tuple[Any, dict[str, Any]],
) -> None:
    app, document = remote_demo
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http,
    ):

        async def ask(client: str, body: dict[str, Any]) -> Any:
            credentials = document["clients"][client]
            form = {"grant_type": "client_credentials"}
            auth = (credentials["client_id"], credentials["client_secret"])
            token = (await http.post("/oauth/token", data=form, auth=auth)).json()["access_token"]
            response = await http.post(
                "/graphql",
                json={"query": body["query"], "variables": body.get("variables")},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
            return response.json()

        agencies = await ask("officer", {"query": "{ agencies { id transport } }"})
        assert {a["transport"] for a in agencies["data"]["agencies"]} == {"http"}
        await measure_flow(ask, document)
