"""A slow or failing agency costs only its own fields: the rest of the answer is
complete, the failure is typed and located, and the wait is bounded by the deadline."""

from __future__ import annotations

import time
from typing import Any

from connectors.sdk import AgencyUnavailable, FetchRequest, FetchResult
from connectors.testing import DelayedConnector, FailingConnector
from tests.investigation.conftest import Investigator

DEADLINE_S = 0.5
MARGIN_S = 1.0  # Generous: CI machines are slow; the slow agency would take 30 s.


def _errors_by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["extensions"]["code"]: e for e in body.get("errors", [])}


async def test_a_late_and_a_failing_agency_give_partial_results_within_the_deadline(
    investigator: Investigator,
) -> None:
    slow = investigator.recorders["bank-ccb"]
    investigator.replace("bank-ccb", DelayedConnector(slow, delay_s=30), deadline_s=DEADLINE_S)
    civil = investigator.recorders["civil-affairs-jiaozuo"]
    down = AgencyUnavailable("database is down", agency_id="civil-affairs-jiaozuo")
    investigator.replace(
        "civil-affairs-jiaozuo", FailingConnector(civil.identity, civil.datasets, down)
    )

    started = time.perf_counter()
    body = await investigator.investigate(investigator.case())
    elapsed = time.perf_counter() - started

    assert elapsed < DEADLINE_S + MARGIN_S
    errors = _errors_by_code(body)
    assert set(errors) == {"AGENCY_TIMEOUT", "AGENCY_UNAVAILABLE"}
    timeout = errors["AGENCY_TIMEOUT"]
    assert timeout["extensions"]["agency"] == "bank-ccb"
    found = body["data"]["investigation"]
    accounts = found["bankAccounts"]
    # The late bank leaves one null at the end of the list, where its error points.
    assert accounts[-1] is None
    assert timeout["path"] == [
        "investigation",
        "bankAccounts",
        len(accounts) - 1,
    ]
    assert {a["agency"]["name"] for a in accounts[:-1]} == {
        "中国工商银行焦作分行",
        "中国农业银行焦作分行",
    }
    failed = errors["AGENCY_UNAVAILABLE"]
    assert failed["extensions"]["agency"] == "civil-affairs-jiaozuo"
    assert found["marriageRecords"] == [None]
    assert found["allowanceRecords"] == [None]
    # Everyone else answered in full.
    assert found["taxRefunds"]
    assert found["household"]["members"]
    assert found["lodgingRecords"]


async def test_the_household_of_a_failing_agency_is_null_with_its_error(
    investigator: Investigator,
) -> None:
    police = investigator.recorders["public-security-jiaozuo"]
    down = AgencyUnavailable("maintenance", agency_id="public-security-jiaozuo")
    investigator.replace(
        "public-security-jiaozuo", FailingConnector(police.identity, police.datasets, down)
    )

    body = await investigator.investigate(investigator.case())

    found = body["data"]["investigation"]
    assert found["household"] is None
    assert found["lodgingRecords"] == [None]
    assert found["vehicles"] == [None]
    assert found["passports"] == [None]
    paths = {tuple(e["path"]) for e in body["errors"]}
    assert paths == {
        ("investigation", "household"),
        ("investigation", "lodgingRecords", 0),
        ("investigation", "vehicles", 0),
        ("investigation", "passports", 0),
    }
    assert {e["extensions"]["agency"] for e in body["errors"]} == {"public-security-jiaozuo"}
    assert found["bankAccounts"]
    assert found["taxRefunds"]
    assert found["marriageRecords"]


class _Oversharing:
    """A tax connector that answers more than it was asked: a broken contract."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.identity = inner.identity
        self.datasets = inner.datasets

    async def fetch(self, request: FetchRequest) -> FetchResult:
        result: FetchResult = await self.inner.fetch(request)
        rows = [{**row, "taxpayer_phone": "13800000000"} for row in result.records["tax.refunds"]]
        return FetchResult(result.agency_id, {"tax.refunds": rows})


async def test_an_answer_that_breaks_the_contract_is_a_bad_agency_response(
    investigator: Investigator,
) -> None:
    tax = investigator.recorders["tax-jiaozuo"]
    investigator.replace("tax-jiaozuo", _Oversharing(tax))

    body = await investigator.investigate(investigator.case())

    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_AGENCY_RESPONSE", "agency": "tax-jiaozuo"}
    assert "13800000000" not in str(body)
    assert body["data"]["investigation"]["taxRefunds"] == [None]
    assert body["data"]["investigation"]["bankAccounts"]
