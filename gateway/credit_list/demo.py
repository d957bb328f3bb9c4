"""The demo's dishonest-debtor list: some demo respondents and other demo people.

Runs after the cases seeder: it lists respondents of the demo officer's cases
in those cases (the organisation among them), and other people of the demo
population in cases of the three demo courts; of these, one entry is then
corrected and one removed, so the change feed shows every kind of event. The
listed organisation names its legal representative with their own resident ID,
so ``dishonestStatus`` finds the representative; and one more entry was
published two years and ten days ago for a circumstance with a two-year term:
the gateway's expiry sweep removes it when the demo starts, and the change feed
shows that removal too. It is idempotent: an entry whose debtor and case were
ever on the list is left alone, so a second run adds nothing and does not bring
a removed one back.
"""

from __future__ import annotations

import datetime
import json
import shlex
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from stdnum.cn import ric

from connectors.demo import COURTS, DEFAULT_SEED
from connectors.demo_people import Person, generate_population, seeded_random
from connectors.subject import Subject, parse_subject
from gateway.case_store import CaseStore, Respondent
from gateway.credit_list import store
from gateway.credit_list.entries import (
    AssociateRole,
    Circumstance,
    EntryDraft,
    EntryState,
    Performance,
    RemovalKind,
    draft_from_mapping,
)
from gateway.credit_list.sealing import SubjectSealer
from gateway.keys import load_keys
from gateway.settings import Settings

STATUS_QUERY = (
    "query Status($subjects: [SubjectInput!]!) { dishonestStatus(subjects: $subjects) { "
    "subject { idType idNumber name } listed restricted "
    "entries { entryId caseNumber courtName circumstances publishedOn expiresOn } "
    "associatedEntries { role debtorName debtorCreditCode caseNumber } } }"
)
_RESPONDENTS = 3
_OTHERS = 6
_CIRCUMSTANCES = list(Circumstance)


def demo_list_seeder(
    court_id: str, officer_id: str
) -> Callable[[Settings, Engine], dict[str, Any]]:
    """A DEMO_SEEDERS entry publishing the demo list, with a ``dishonestStatus`` hint."""

    def seed(settings: Settings, engine: Engine) -> dict[str, Any]:
        keys = load_keys(settings.keys_dir)
        sealer = SubjectSealer(keys.blind_index_key, keys.subject_encryption_key)
        today = store.now().date()
        population = generate_population(seeded_random(DEFAULT_SEED))
        respondents = _respondents(CaseStore.from_keys(engine, keys), court_id, officer_id)
        representatives = {o.uscc: o.legal_representative for o in population.organisations}
        drafts = [
            _draft(
                parse_subject(r.id_type, r.id_number, r.name),
                case,
                court_id,
                today,
                n,
                representatives.get(r.id_number),
            )
            for n, (r, case) in enumerate(respondents)
        ]
        taken = {r.id_number for r, _ in respondents}
        taken |= {o.legal_representative.id_number for o in population.organisations}
        pool = [p for p in population.people if p.id_number not in taken and _adult(p, today)]
        for n, person in enumerate(pool[:_OTHERS], start=len(drafts)):
            court = COURTS[n % len(COURTS)]
            case = f"({today.year - 1}){court.case_code}执{800 + n}号"
            subject = Subject.resident(person.id_number, person.name)
            drafts.append(_draft(subject, case, court.id, today, n, None))
        expired = _expired_draft(pool[_OTHERS + 1], today)
        with engine.begin() as connection:
            store.ensure_courts(connection, [(court.id, court.name) for court in COURTS])
            _publish(connection, sealer, [expired, *drafts], today)
        return _document(settings, drafts, len(respondents), pool[_OTHERS], expired)

    return seed


def _respondents(cases: CaseStore, court_id: str, officer_id: str) -> list[tuple[Respondent, str]]:
    """The first persons and the organisation among the officer's open cases' respondents."""
    pairs = [
        (respondent, case.case_number)
        for case in cases.cases_of_officer(officer_id)
        if case.court.id == court_id and case.is_open
        for respondent in case.respondents
    ]
    people = [pair for pair in pairs if pair[0].id_type == "resident_id"][:_RESPONDENTS]
    return people + [pair for pair in pairs if pair[0].id_type == "uscc"][:1]


def _adult(person: Person, today: datetime.date) -> bool:
    return today.year - person.birth_date.year >= 25


def _draft(
    subject: Subject,
    case: str,
    court_id: str,
    today: datetime.date,
    n: int,
    representative: Person | None,
) -> EntryDraft:
    published = today - datetime.timedelta(days=20 + 9 * n)
    associates = []
    if representative is not None:
        associates.append(
            {
                "role": AssociateRole.LEGAL_REPRESENTATIVE,
                "id_number": representative.id_number,
                "name": representative.name,
            }
        )
    return draft_from_mapping(
        {
            "id_type": subject.id_type,
            "id_number": subject.id_number,
            "name": subject.name,
            "legal_representative": None if representative else "未登记",
            "associates": associates,
            "case_number": case,
            "court_id": court_id,
            "filed_on": published - datetime.timedelta(days=120),
            "basis_issuer": "焦作市中级人民法院",
            "basis_number": f"({today.year - 2})豫08民终{300 + n}号",
            "obligations": f"偿还借款本金{(n + 3) * 25000}元及利息",
            "performance": Performance.NOT_PERFORMED,
            "circumstance": _CIRCUMSTANCES[n % len(_CIRCUMSTANCES)],
            "published_on": published,
        },
        today=today,
    )


def _expired_draft(person: Person, today: datetime.date) -> EntryDraft:
    """An entry whose two-year term (art. 2) ended ten days ago: the sweep removes it."""
    published = today - datetime.timedelta(days=2 * 365 + 11)
    court = COURTS[0]
    return draft_from_mapping(
        {
            "id_type": "resident_id",
            "id_number": person.id_number,
            "name": person.name,
            "case_number": f"({published.year}){court.case_code}执77号",
            "court_id": court.id,
            "filed_on": published - datetime.timedelta(days=90),
            "basis_issuer": "焦作市中级人民法院",
            "basis_number": f"({published.year - 1})豫08民终77号",
            "obligations": "支付货款86000元",
            "performance": Performance.NOT_PERFORMED,
            "circumstance": Circumstance.VIOLATES_PROPERTY_REPORTING,
            "published_on": published,
        },
        # Validated as on the day it was published, when its term was still running.
        today=published,
    )


def _publish(
    connection: Connection, sealer: SubjectSealer, drafts: list[EntryDraft], today: datetime.date
) -> None:
    sealed = [(draft, sealer.seal(draft.subject)) for draft in drafts]
    seen = store.listed_pairs(connection, [s.index for _, s in sealed], include_removed=True)
    new = [(draft, s) for draft, s in sealed if (s.index, draft.case_number) not in seen]
    rows = [store.entry_row(d, s, [sealer.seal(a.subject) for a in d.associates]) for d, s in new]
    ids = store.insert_entries(connection, rows)
    added = {draft.case_number: entry_id for (draft, _), entry_id in zip(new, ids, strict=True)}
    corrected, removed = drafts[-2], drafts[-1]
    if corrected.case_number in added:
        values = {
            "performance": Performance.PARTLY_PERFORMED.value,
            "performed_part": "已履行30000元",
        }
        store.update_entry(
            connection,
            added[corrected.case_number],
            EntryState.CORRECTED,
            "被执行人部分履行，更正履行情况",
            today,
            values,
        )
    if removed.case_number in added:
        store.update_entry(
            connection,
            added[removed.case_number],
            EntryState.REMOVED,
            "被执行人已全部履行义务",
            today,
            {"removal_kind": RemovalKind.PERFORMED.value},
        )


def _document(
    settings: Settings,
    drafts: list[EntryDraft],
    respondents: int,
    unlisted: Person,
    expired: EntryDraft,
) -> dict[str, Any]:
    listed = drafts[0].subject
    invalid = listed.id_number[:-1] + ("0" if listed.id_number[-1] != "0" else "1")
    assert ric.is_valid(unlisted.id_number)  # noqa: S101 - the demo population is valid
    subjects: list[dict[str, str | None]] = [
        {"residentId": listed.id_number, "name": listed.name},
        {"residentId": unlisted.id_number, "name": unlisted.name},
        {"residentId": invalid},
        {"residentId": drafts[-1].subject.id_number, "name": drafts[-1].subject.name},
    ]
    company = next(d for d in drafts if d.associates)
    [representative] = company.associates
    representative_query = {
        "query": STATUS_QUERY,
        "variables": {
            "subjects": [
                {
                    "residentId": representative.subject.id_number,
                    "name": representative.subject.name,
                }
            ]
        },
    }
    return {
        "credit_list": {
            "entries": len(drafts) + 1,
            "expired_entry": {
                "idNumber": expired.subject.id_number,
                "name": expired.subject.name,
                "caseNumber": expired.case_number,
                "publishedOn": expired.published_on.isoformat(),
            },
            "legal_representative": {
                "idNumber": representative.subject.id_number,
                "name": representative.subject.name,
                "company": company.subject.name,
                "creditCode": company.subject.id_number,
            },
            "representative_example": representative_query,
            "listed_respondents": [
                {
                    "idNumber": d.subject.id_number,
                    "name": d.subject.name,
                    "caseNumber": d.case_number,
                }
                for d in drafts[:respondents]
            ],
            "status_example": {"query": STATUS_QUERY, "variables": {"subjects": subjects}},
        },
        "hints": _hints(settings, subjects),
    }


def _hints(settings: Settings, subjects: list[dict[str, str | None]]) -> list[str]:
    """Shell lines: the bank's token from demo.json, then its ``dishonestStatus`` call."""
    body = json.dumps(
        {"query": STATUS_QUERY, "variables": {"subjects": subjects}}, ensure_ascii=False
    )
    demo_json = settings.data_dir / "demo.json"
    credentials = (
        "python3 -c 'import json; c=json.load(open(\"" + str(demo_json) + '"))["clients"]'
        '["bank-icbc"]; print(c["client_id"]+":"+c["client_secret"])\''
    )
    token = (
        f'BANK=$(curl -s -u "$({credentials})" -d grant_type=client_credentials '
        f"{settings.public_url}/oauth/token | python3 -c 'import json,sys; "
        'print(json.load(sys.stdin)["access_token"])\')'
    )
    return [
        "",
        "The bank checks applicants against the dishonest-debtor list (listed, unlisted,",
        "invalid, removed):",
        f"  {token}",
        "  curl -s -H \"Authorization: Bearer $BANK\" -H 'Content-Type: application/json' \\",
        f"       -d {shlex.quote(body)} {settings.public_url}/graphql",
    ]
