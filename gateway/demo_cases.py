"""The demo's agencies and enforcement cases, built on the connectors' demo world.

The seeder writes the nine demo agency databases under ``DATA_DIR/agencies/``
(read by the embedded connectors, see gateway.agencies) and files one case per
demo judgment debtor. Most are open cases of the demo officer's court with the
demo officer assigned; one is closed and one belongs to another court, so each
refusal can be tried from the demo too.
"""

from __future__ import annotations

import datetime
import json
import re
import shlex
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from connectors.demo import DemoCourt, DemoDebtor, DemoWorld, seed_demo_agencies
from gateway.case_store import CaseEntry, CaseStore, Court, Document, Officer, Respondent
from gateway.keys import load_keys
from gateway.measures.demo import demo_measures
from gateway.settings import Settings

__all__ = ["INVESTIGATION_QUERY", "demo_case_entries", "demo_case_seeder"]

INVESTIGATION_QUERY = (
    "query Investigate($caseNumber: String!, $subject: SubjectInput!) { "
    "investigation(caseNumber: $caseNumber, subject: $subject) { caseNumber "
    "subject { name residentId creditCode } "
    "bankAccounts { agency { name } bank accountNumber accountType status currency "
    "balance openedOn } "
    "taxRefunds { agency { name } taxYear taxType amount refundAccount refundBank status } "
    "marriageRecords { status registeredOn office spouseName spouseIdNumber } "
    "allowanceRecords { program monthlyAmount startDate status } "
    "household { householdNumber address headName members { name relation idNumber birthDate } } "
    "lodgingRecords { hotel city checkIn checkOut } "
    "vehicles { plate brandModel vin vehicleType registeredOn status } "
    "passports { documentNumber documentType issuedOn expiresOn status } "
    "realEstateRights { certificateNumber unitNumber location rightType use area ownership "
    "share registeredOn status } "
    "realEstateMortgages { mortgageNumber certificateNumber mortgagee securedAmount termEnd "
    "status } "
    "realEstateSeals { certificateNumber sealingCourt documentNumber sealType sealedUntil "
    "status } "
    "providentFundAccounts { accountNumber employer balance monthlyDeposit status } "
    "equityHoldings { holdingId companyName creditCode sharePercent subscribedCapital status } "
    "companyPosts { companyName creditCode post appointedOn companyStatus } } }"
)
"""A query asking every dataset; demo.json and the benchmark use it."""

_DOCUMENT_TYPE = "assistance_inquiry_notice"  # 协助查询通知书
_OFFICER_NAMES = {"officer-wz-001": "李建国", "officer-wz-002": "王红", "officer-zy-001": "赵磊"}
_OTHER_COURT_OFFICER = "officer-zy-001"
_COLLEAGUE = "officer-wz-002"


def demo_case_entries(world: DemoWorld, court_id: str, officer_id: str) -> list[CaseEntry]:
    """One case per debtor in the officer's court; the fifth closed; one more elsewhere."""
    home = _court(world, court_id)
    other = next(court for court in world.courts if court.id != court_id)
    entries: list[CaseEntry] = []
    for index, debtor in enumerate(world.debtors):
        status = "closed" if index == 4 else "open"
        officers = (officer_id, _COLLEAGUE) if index == 0 else (officer_id,)
        entries.append(_entry(world, home, debtor, index, status, officers))
    # The first debtor owes in another court too: a case the demo officer may not use.
    entries.append(
        _entry(world, other, world.debtors[0], len(entries), "open", (_OTHER_COURT_OFFICER,))
    )
    return entries


def demo_case_seeder(
    court_id: str, officer_id: str
) -> Callable[[Settings, Engine], dict[str, Any]]:
    """A DEMO_SEEDERS entry: agencies and cases, listed in demo.json with a curl hint."""

    def seed(settings: Settings, engine: Engine) -> dict[str, Any]:
        world = seed_demo_agencies(settings.data_dir)
        entries = demo_case_entries(world, court_id, officer_id)
        store = CaseStore.from_keys(engine, load_keys(settings.keys_dir))
        for entry in entries:
            store.save(entry)
        first = entries[0]
        variables = {
            "caseNumber": first.case_number,
            "subject": _subject_json(first.respondents[0]),
        }
        measures = demo_measures(settings, engine, world, first, officer_id)
        return {
            "measures": measures,
            "agencies": [
                {"id": a.identity.id, "kind": a.kind, "name": a.identity.name}
                for a in world.agencies
            ],
            "cases": [_case_json(entry) for entry in entries],
            "investigation_example": {"query": INVESTIGATION_QUERY, "variables": variables},
            "hints": _hints(settings, variables),
        }

    return seed


def _court(world: DemoWorld, court_id: str) -> DemoCourt:
    for court in world.courts:
        if court.id == court_id:
            return court
    raise KeyError(court_id)


def _entry(
    world: DemoWorld,
    court: DemoCourt,
    debtor: DemoDebtor,
    index: int,
    status: str,
    officer_ids: tuple[str, ...],
) -> CaseEntry:
    found = re.search(r"执(\d+)号", debtor.case_number)
    # Four digits from the suggested number, made distinct by the index (the last digit).
    sequence = 1000 + (int(found.group(1)) if found else 0) % 899 * 10 + index
    number = f"({world.today.year}){court.case_code}执{sequence}号"
    court_id = court.id
    return CaseEntry(
        case_number=number,
        court=Court(court_id, court.name),
        status="closed" if status == "closed" else "open",
        filed_on=world.today - datetime.timedelta(days=30 + 17 * index),
        document=Document(
            _DOCUMENT_TYPE, f"{number}之一", world.today + datetime.timedelta(days=180)
        ),
        officers=tuple(Officer(o, court_id, _OFFICER_NAMES.get(o)) for o in officer_ids),
        respondents=(
            Respondent(debtor.subject.id_type, debtor.subject.id_number, debtor.subject.name),
        ),
    )


def _subject_json(respondent: Respondent) -> dict[str, str | None]:
    key = "residentId" if respondent.id_type == "resident_id" else "creditCode"
    return {key: respondent.id_number, "name": respondent.name}


def _case_json(entry: CaseEntry) -> dict[str, Any]:
    return {
        "caseNumber": entry.case_number,
        "court": entry.court.id,
        "status": entry.status,
        "officers": [officer.id for officer in entry.officers],
        "respondents": [_subject_json(r) for r in entry.respondents],
    }


def _hints(settings: Settings, variables: dict[str, Any]) -> list[str]:
    body = json.dumps({"query": INVESTIGATION_QUERY, "variables": variables}, ensure_ascii=False)
    endpoint = f"{settings.public_url}/graphql"
    curl = "curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json'"
    my_cases = (
        '{"query":"{ myCases { caseNumber status respondents { residentId creditCode name } } }"}'
    )
    return [
        "",
        "Your cases (demo.json lists them all):",
        f"  {curl} \\",
        f"       -d {shlex.quote(my_cases)} {endpoint}",
        f"Investigate a respondent of {variables['caseNumber']} across the agencies:",
        f"  {curl} \\",
        f"       -d {shlex.quote(body)} {endpoint}",
    ]
