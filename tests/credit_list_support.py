"""Shared set-up of the dishonest-list tests: courts, clients, tokens and entries."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from stdnum.cn import ric

from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.credit_list import store
from tests.conftest import Gateway

COURTS = (("court-wuzhi", "武陟县人民法院"), ("court-jiefang", "焦作市解放区人民法院"))
#: Entries are published 200 days ago: within the two-year term of art. 2.
PUBLISHED_ON = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=200)
FILED_ON = PUBLISHED_ON - datetime.timedelta(days=90)
ENTRY_FIELDS = """
    id idType idNumber name sex age legalRepresentative caseNumber courtId courtName
    filedOn basisIssuer basisNumber obligations performance performedPart circumstance
    circumstances publishedOn state stateReason stateChangedOn termYears extendedYears
    expiresOn removalDueOn removalKind replacedBy associates { role name idNumber }
"""
PUBLISH = f"""
mutation($entry: DishonestEntryInput!) {{
  publishDishonestEntry(entry: $entry) {{ {ENTRY_FIELDS} }}
}}"""
CORRECT = f"""
mutation($id: ID!, $entry: DishonestEntryInput!, $reason: String!) {{
  correctDishonestEntry(id: $id, entry: $entry, reason: $reason) {{ {ENTRY_FIELDS} }}
}}"""
REMOVE = f"""
mutation($id: ID!, $reason: String!, $kind: DishonestRemovalKind! = PERFORMED, $on: Date) {{
  removeDishonestEntry(id: $id, kind: $kind, reason: $reason, removedOn: $on) {{
    {ENTRY_FIELDS}
  }}
}}"""
EXTEND = f"""
mutation($id: ID!, $years: Int!, $reason: String!) {{
  extendDishonestEntry(id: $id, years: $years, reason: $reason) {{ {ENTRY_FIELDS} }}
}}"""
STATUS = """
query($subjects: [SubjectInput!]!) {
  dishonestStatus(subjects: $subjects) {
    subject { idType idNumber name }
    listed
    entries { entryId caseNumber courtId courtName circumstance publishedOn state }
  }
}"""
ASSOCIATED_STATUS = """
query($subjects: [SubjectInput!]!) {
  dishonestStatus(subjects: $subjects) {
    subject { idNumber }
    listed
    restricted
    associatedEntries { role entryId debtorName debtorCreditCode caseNumber courtName state }
  }
}"""
CHANGES = f"""
query($after: String, $first: Int!) {{
  dishonestListChanges(after: $after, first: $first) {{
    changes {{ cursor kind occurredAt entry {{ {ENTRY_FIELDS} }} }}
    endCursor hasNextPage
  }}
}}"""
SANCTION = """
mutation($entry: ID!, $measure: SanctionMeasure!, $on: Date!, $outcome: SanctionOutcome!) {
  reportSanction(entry: $entry, measure: $measure, appliedOn: $on, outcome: $outcome,
                 note: "loan application 2024-17 refused") {
    id entryId agencyId measure outcome appliedOn note reportedAt
  }
}"""
SUMMARY = """
query($from: Date!, $to: Date!) {
  sanctionSummary(from: $from, to: $to) {
    from to
    agencies { agencyId lookupRequests subjectsLookedUp sanctionsReported
               measures { measure sanctions } }
  }
}"""
PUBLIC = """
query($name: String, $court: String, $first: Int!, $after: String) {
  publicDishonestList(name: $name, court: $court, first: $first, after: $after) {
    entries { id idNumberMasked name courtId caseNumber state circumstance }
    endCursor hasNextPage
  }
}"""


def resident_id(n: int, born: str = "19800101", region: str = "410823") -> str:
    """A valid resident ID number, distinct for each ``n`` below 500."""
    body = f"{region}{born}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def bad_check_digit(number: str) -> str:
    """``number`` with a wrong check character."""
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def entry_input(id_number: str, case: str, **changes: Any) -> dict[str, Any]:
    """A publishable entry for a person, as the mutation's variables."""
    entry: dict[str, Any] = {
        "subject": {"residentId": id_number, "name": "张伟"},
        "caseNumber": case,
        "filedOn": FILED_ON.isoformat(),
        "basisIssuer": "武陟县人民法院",
        "basisNumber": "(2023)豫0823民初100号",
        "obligations": "偿还借款本金100000元及利息",
        "performance": "NOT_PERFORMED",
        "circumstance": "REFUSES_DESPITE_ABILITY",
        "publishedOn": PUBLISHED_ON.isoformat(),
    }
    entry.update(changes)
    return entry


@dataclass
class ListActors:
    """Tokens of the parties to the list."""

    gateway: Gateway
    admin: str
    other_admin: str
    bank: str
    tax: str
    oversight: str
    public: str

    async def ok(self, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run an operation that must succeed; its ``data``."""
        response = await self.gateway.graphql(token, query, variables)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def errors(self, token: str, query: str, variables: dict[str, Any]) -> list[Any]:
        """Run an operation that must fail; its errors."""
        body = (await self.gateway.graphql(token, query, variables)).json()
        assert body.get("errors"), body
        errors: list[Any] = body["errors"]
        return errors

    async def publish(self, id_number: str, case: str, **changes: Any) -> dict[str, Any]:
        """Publish an entry as the first court's admin."""
        data = await self.ok(
            self.admin, PUBLISH, {"entry": entry_input(id_number, case, **changes)}
        )
        entry: dict[str, Any] = data["publishDishonestEntry"]
        return entry


async def list_actors(gateway: Gateway) -> ListActors:
    """Register the courts and one client per role the list knows."""
    with gateway.services.engine.begin() as connection:
        store.ensure_courts(connection, COURTS)

    async def token(name: str, role: Role, granted: set[str], **where: str) -> str:
        client_id, secret = gateway.register(name, role, granted, **where)
        return await gateway.token(client_id, secret)

    publish = {scopes.LIST_PUBLISH}
    agency = {scopes.LIST_LOOKUP, scopes.LIST_SYNC, scopes.LIST_FEEDBACK}
    return ListActors(
        gateway=gateway,
        admin=await token("wuzhi-admin", Role.ADMIN, publish, court_id="court-wuzhi"),
        other_admin=await token("jiefang-admin", Role.ADMIN, publish, court_id="court-jiefang"),
        bank=await token("bank-icbc", Role.AGENCY, agency, agency_id="bank-icbc"),
        tax=await token("tax-jiaozuo", Role.AGENCY, agency, agency_id="tax-jiaozuo"),
        oversight=await token(
            "officer", Role.OFFICER, {scopes.LIST_OVERSIGHT}, court_id="court-wuzhi"
        ),
        public=await token("publicity", Role.ADMIN, {scopes.LIST_PUBLIC}),
    )


def age_on(day: datetime.date, born: datetime.date) -> int:
    """Whole years from ``born`` to ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def days_from(day: datetime.date, days: int) -> str:
    """``day`` moved by ``days``, as the API writes dates."""
    return (day + datetime.timedelta(days=days)).isoformat()


def today() -> str:
    """Today (UTC) as the API writes dates."""
    return datetime.datetime.now(datetime.UTC).date().isoformat()
