"""The investigation plan is cached per document, keyed by the variables inside it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache
from strawberry.types import Info

from gateway.plan import Plan
from gateway.plan_cache import cached_plan

plans: list[Plan] = []


@strawberry.type
class Records:
    @strawberry.field
    def hotel(self) -> str:
        return "x"

    @strawberry.field
    def city(self) -> str:
        return "y"


@strawberry.type
class Inv:
    @strawberry.field
    def lodging_records(
        self, since: datetime.date | None = None, until: datetime.date | None = None
    ) -> list[Records]:
        return [Records()]

    @strawberry.field
    def bank_accounts(self) -> list[Records]:
        return []


@strawberry.type
class Query:
    @strawberry.field
    def investigation(self, info: Info[Any, None], case_number: str) -> Inv:
        plans.append(cached_plan(info))
        return Inv()


SCHEMA = strawberry.Schema(query=Query, extensions=[lambda: ParserCache(maxsize=16)])
QUERY = """query ($case: String!, $since: Date, $withHotel: Boolean!) {
  investigation(caseNumber: $case) {
    lodgingRecords(since: $since) { city hotel @include(if: $withHotel) }
  }
}"""


@pytest.fixture(autouse=True)
def _clear() -> None:
    plans.clear()


def _run(variables: dict[str, Any]) -> Plan:
    result = SCHEMA.execute_sync(QUERY, variable_values=variables)
    assert result.errors is None, result.errors
    return plans[-1]


def test_same_selection_variables_reuse_the_plan_whatever_the_root_arguments() -> None:
    first = _run({"case": "A", "since": "2024-01-01", "withHotel": True})
    second = _run({"case": "B", "since": "2024-01-01", "withHotel": True})
    assert first.fields == {"public_security.lodging": frozenset({"city", "hotel"})}
    assert first.window("public_security.lodging").since == datetime.date(2024, 1, 1)
    assert second is first  # the cached plan itself


def test_variables_inside_the_selection_make_a_new_plan() -> None:
    with_hotel = _run({"case": "A", "since": "2024-01-01", "withHotel": True})
    without = _run({"case": "A", "since": "2024-01-01", "withHotel": False})
    later = _run({"case": "A", "since": "2025-06-01", "withHotel": False})
    assert with_hotel.fields["public_security.lodging"] == {"city", "hotel"}
    assert without.fields["public_security.lodging"] == {"city"}
    assert later.window("public_security.lodging").since == datetime.date(2025, 6, 1)
    assert _run({"case": "C", "since": "2024-01-01", "withHotel": False}) is without
