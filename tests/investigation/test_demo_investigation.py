"""``credgate demo``: demo.json lists the cases, and its officer investigates a
demo respondent with records from all four agency kinds in one response."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.demo import prepare_demo

PUBLIC_URL = "http://127.0.0.1:8000"


async def test_the_demo_officer_investigates_a_demo_respondent(tmp_path: Path) -> None:
    prepare_demo(tmp_path, 8000)
    setup = prepare_demo(tmp_path, 8000)  # Idempotent: a second run reuses everything.
    document = json.loads((tmp_path / "demo.json").read_text(encoding="utf-8"))
    assert {case["status"] for case in document["cases"]} == {"open", "closed"}
    assert all(case["respondents"] for case in document["cases"])
    assert any("investigation" in hint for hint in document["hints"])
    officer = document["clients"]["officer"]
    app = create_app(setup.settings)

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as http,
    ):
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(officer["client_id"], officer["client_secret"]),
        )
        response = await http.post(
            "/graphql",
            json=document["investigation_example"],
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        cases = await http.post(
            "/graphql",
            json={"query": "{ myCases { caseNumber } }"},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )

    body = response.json()
    assert "errors" not in body, body
    found = body["data"]["investigation"]
    assert found["bankAccounts"]
    assert found["taxRefunds"]
    assert found["marriageRecords"]
    assert found["household"]["members"]
    assert found["lodgingRecords"]
    mine = {c["caseNumber"] for c in cases.json()["data"]["myCases"]}
    listed = {c["caseNumber"] for c in document["cases"] if "officer-wz-001" in c["officers"]}
    assert mine == listed
