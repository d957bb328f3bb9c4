"""The demo's dishonest list, as the issue's "done when" describes it, through HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from gateway.app import create_app
from gateway.demo import prepare_demo
from tests.credit_list_support import CHANGES, SANCTION, SUMMARY, today

PUBLIC_URL = "http://127.0.0.1:8000"


async def _token(http: httpx.AsyncClient, client: dict[str, str]) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["client_id"], client["client_secret"]),
    )
    token: str = response.json()["access_token"]
    return token


async def _data(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def test_bank_checks_follows_reports_and_officer_oversees(tmp_path: Path) -> None:
    setup = prepare_demo(tmp_path / "demo", 8000)
    again = prepare_demo(tmp_path / "demo", 8000)  # idempotent: nothing is added twice
    assert again.extra["credit_list"] == setup.extra["credit_list"]
    document = setup.document()
    example = document["credit_list"]["status_example"]
    app = create_app(setup.settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http,
    ):
        bank = await _token(http, document["clients"]["bank-icbc"])
        officer = await _token(http, document["clients"]["officer"])

        status = await _data(http, bank, example["query"], example["variables"])
        results = status["data"]["dishonestStatus"]
        # Listed respondent, unlisted person, invalid ID, removed person.
        assert results[0]["listed"] is True
        assert (
            results[0]["entries"][0]["caseNumber"]
            == (document["credit_list"]["listed_respondents"][0]["caseNumber"])
        )
        assert results[1]["listed"] is False
        assert results[2] is None
        assert status["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert results[3]["listed"] is False

        changes: list[Any] = []
        after = None
        for _ in range(20):
            page = (await _data(http, bank, CHANGES, {"after": after, "first": 4}))["data"]
            changes += page["dishonestListChanges"]["changes"]
            after = page["dishonestListChanges"]["endCursor"]
            if not page["dishonestListChanges"]["hasNextPage"]:
                break
        kinds = [change["kind"] for change in changes]
        assert kinds.count("PUBLISHED") == document["credit_list"]["entries"]
        # The seeded corrections, then the removal the expiry sweep made at start-up.
        assert kinds[-3:] == ["CORRECTED", "REMOVED", "REMOVED"]
        expired = document["credit_list"]["expired_entry"]
        removal = changes[-1]["entry"]
        assert (removal["idNumber"], removal["caseNumber"]) == (
            expired["idNumber"],
            expired["caseNumber"],
        )
        assert removal["removalKind"] == "EXPIRED"
        assert removal["stateChangedOn"] == removal["expiresOn"]

        # The listed company's legal representative is found by their own resident ID.
        representative = document["credit_list"]["legal_representative"]
        example = document["credit_list"]["representative_example"]
        found = await _data(http, bank, example["query"], example["variables"])
        assert "errors" not in found, found
        [person] = found["data"]["dishonestStatus"]
        assert (person["listed"], person["restricted"]) == (False, True)
        [association] = person["associatedEntries"]
        assert association["role"] == "LEGAL_REPRESENTATIVE"
        assert association["debtorCreditCode"] == representative["creditCode"]

        entry = results[0]["entries"][0]["entryId"]
        variables = {"entry": entry, "measure": "REFUSE_LOAN", "on": today(), "outcome": "APPLIED"}
        assert "errors" not in await _data(http, bank, SANCTION, variables)
        summary = await _data(http, officer, SUMMARY, {"from": today(), "to": today()})
        [icbc] = summary["data"]["sanctionSummary"]["agencies"]
        assert icbc["agencyId"] == "bank-icbc"
        assert icbc["lookupRequests"] == 2
        assert icbc["measures"] == [{"measure": "REFUSE_LOAN", "sanctions": 1}]
