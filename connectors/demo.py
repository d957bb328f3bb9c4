"""The nine demo agencies of Jiaozuo, seeded deterministically from one number.

:func:`seed_demo_agencies` writes one SQLite database per agency (agencies own
separate data) and returns a :class:`DemoWorld` telling the gateway what is in
them: the agencies, the people and organisations, the courts, and the judgment
debtors that have data at every agency, each with a suggested case.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine

from connectors.bank.demo_data import BANK_PROFILES, AccountRef, seed_bank
from connectors.civil_affairs.demo_data import seed_civil_affairs
from connectors.demo_people import (
    Household,
    Organisation,
    Person,
    Population,
    generate_population,
    seeded_random,
)
from connectors.market_regulation.demo_data import seed_market_regulation
from connectors.provident_fund.demo_data import seed_provident_fund
from connectors.public_security.demo_data import seed_public_security
from connectors.real_estate.demo_data import seed_real_estate
from connectors.registry import build_connector
from connectors.sdk import AgencyIdentity, Connector, Subject
from connectors.sql import read_only_sqlite_url
from connectors.tax.demo_data import seed_tax

__all__ = [
    "COURTS",
    "DEFAULT_SEED",
    "DEMO_AGENCIES",
    "DemoAgency",
    "DemoCourt",
    "DemoDebtor",
    "DemoWorld",
    "seed_demo_agencies",
]

DEFAULT_SEED = 20170601

DEMO_AGENCIES: tuple[AgencyIdentity, ...] = (
    AgencyIdentity("bank-icbc", "bank", "中国工商银行焦作分行"),
    AgencyIdentity("bank-ccb", "bank", "中国建设银行焦作分行"),
    AgencyIdentity("bank-abc", "bank", "中国农业银行焦作分行"),
    AgencyIdentity("tax-jiaozuo", "tax", "国家税务总局焦作市税务局"),
    AgencyIdentity("civil-affairs-jiaozuo", "civil_affairs", "焦作市民政局"),
    AgencyIdentity("public-security-jiaozuo", "public_security", "焦作市公安局"),
    AgencyIdentity("real-estate-jiaozuo", "real_estate", "焦作市不动产登记中心"),
    AgencyIdentity("provident-fund-jiaozuo", "provident_fund", "焦作市住房公积金管理中心"),
    AgencyIdentity("market-regulation-jiaozuo", "market_regulation", "焦作市市场监督管理局"),
)


@dataclass(frozen=True, slots=True)
class DemoCourt:
    """A court; ``case_code`` is its part of a case number, e.g. ``豫0823``."""

    id: str
    name: str
    case_code: str


COURTS: tuple[DemoCourt, ...] = (
    DemoCourt("court-jiaozuo-zhongyuan", "焦作市中级人民法院", "豫08"),
    DemoCourt("court-wuzhi", "武陟县人民法院", "豫0823"),
    DemoCourt("court-jiefang", "焦作市解放区人民法院", "豫0802"),
)


@dataclass(frozen=True, slots=True)
class DemoAgency:
    """A seeded agency: who it is and where its (read-only) database is."""

    identity: AgencyIdentity
    database_url: str
    path: Path

    @property
    def kind(self) -> str:
        """The agency kind, e.g. ``bank``."""
        return self.identity.kind

    def build_connector(self) -> Connector:
        """A connector over this agency's database; close it when done."""
        return build_connector(self.identity.kind, self.identity, self.database_url)


@dataclass(frozen=True, slots=True)
class DemoDebtor:
    """A judgment debtor with data at every agency that can hold data about it.

    Attributes:
        subject: The debtor as a query subject.
        case_number: A suggested enforcement case, e.g. ``(2024)豫0823执1234号``.
        court_id: The court of that case.
        agencies: Ids of the agencies holding records about the debtor.
        datasets: The datasets with at least one record about the debtor.
    """

    subject: Subject
    case_number: str
    court_id: str
    agencies: tuple[str, ...]
    datasets: frozenset[str]

    @property
    def name(self) -> str:
        """The debtor's name."""
        return self.subject.name or ""


@dataclass(frozen=True, slots=True)
class DemoWorld:
    """What the demo agencies hold, for the gateway to build demo cases on."""

    seed: int
    today: datetime.date
    agencies: tuple[DemoAgency, ...]
    courts: tuple[DemoCourt, ...]
    people: tuple[Person, ...]
    households: tuple[Household, ...]
    organisations: tuple[Organisation, ...]
    debtors: tuple[DemoDebtor, ...]

    def agency(self, agency_id: str) -> DemoAgency:
        """The agency with this id; ``KeyError`` if there is none."""
        for agency in self.agencies:
            if agency.identity.id == agency_id:
                return agency
        raise KeyError(agency_id)


_PERSON_DATASETS = frozenset(
    {
        "bank.accounts",
        "tax.refunds",
        "civil_affairs.marriages",
        "public_security.household",
        "public_security.lodging",
        "real_estate.rights",
        "provident_fund.accounts",
    }
)
_DEBTOR_COUNT = 5


def seed_demo_agencies(
    data_dir: Path, *, seed: int = DEFAULT_SEED, today: datetime.date | None = None
) -> DemoWorld:
    """Create ``data_dir/agencies/<agency_id>.sqlite`` for the nine demo agencies.

    A second call with the same arguments rewrites the same rows (tables are
    dropped and recreated), never adding to them. People and identifiers depend
    only on ``seed``; dates of accounts, refunds and stays also on ``today``.

    Args:
        data_dir: Directory to write under; created if missing.
        seed: Seed of every random choice.
        today: Reference date for relative dates (stays span four years before it).
    """
    today = today or datetime.date.today()
    population = generate_population(seeded_random(seed))
    chooser = seeded_random(seed, "debtors")
    heads = _debtor_candidates(population)
    people = chooser.sample(heads, _DEBTOR_COUNT)
    firm = chooser.choice(population.organisations)
    banks = [a.id for a in DEMO_AGENCIES if a.kind == "bank"]
    # The first debtor banks everywhere and receives assistance: the richest demo case.
    bank_plan = {people[0].id_number: tuple(banks)}
    bank_plan |= {p.id_number: tuple(sorted(chooser.sample(banks, 2))) for p in people[1:]}
    bank_plan[firm.uscc] = tuple(sorted(chooser.sample(banks, 2)))
    receivers = frozenset({people[0].id_number, people[3].id_number})
    person_ids = frozenset(p.id_number for p in people)
    ids = [p.id_number for p in people]
    # Every person debtor owns a home and has a fund account; the richest debtor
    # also a mortgage, a seal by another court, equity, posts, a car and a passport.
    property_plan = {
        "owners": person_ids,
        "mortgaged": frozenset({ids[0], ids[2]}),
        "sealed": frozenset({ids[0], ids[3]}),
    }
    company_plan = {
        "shareholders": frozenset({ids[0], ids[1], ids[3]}),
        "officers": frozenset({ids[0], ids[2], ids[4]}),
    }
    drivers = frozenset({ids[0], ids[1], ids[4]})
    passport_holders = frozenset({ids[0], ids[2]})
    found: dict[str, set[str]] = {}

    directory = data_dir / "agencies"
    directory.mkdir(parents=True, exist_ok=True)
    agencies: list[DemoAgency] = []
    accounts: list[AccountRef] = []
    for identity in DEMO_AGENCIES:
        path = directory / f"{identity.id}.sqlite"
        rng = seeded_random(seed, identity.id)
        engine = create_engine(f"sqlite:///{path}")
        try:
            if identity.kind == "bank":
                here = {holder: identity.id in ids for holder, ids in bank_plan.items()}
                profile = BANK_PROFILES[identity.id]
                accounts += seed_bank(engine, profile, population, here, rng, today)
            elif identity.kind == "tax":
                seed_tax(engine, population, accounts, person_ids | {firm.uscc}, rng, today)
            elif identity.kind == "civil_affairs":
                seed_civil_affairs(engine, population, receivers, rng, today)
            elif identity.kind == "public_security":
                found |= seed_public_security(
                    engine,
                    population,
                    person_ids,
                    rng,
                    today,
                    drivers=drivers,
                    passport_holders=passport_holders,
                )
            elif identity.kind == "real_estate":
                found |= seed_real_estate(engine, population, property_plan, rng, today)
            elif identity.kind == "provident_fund":
                found["provident_fund.accounts"] = seed_provident_fund(
                    engine, population, person_ids, rng, today
                )
            else:
                found |= seed_market_regulation(engine, population, company_plan, rng, today)
        finally:
            engine.dispose()
        agencies.append(DemoAgency(identity, read_only_sqlite_url(path), path))

    debtors = [
        _debtor(
            Subject.resident(p.id_number, p.name),
            index,
            chooser,
            today,
            (
                *bank_plan[p.id_number],
                "tax-jiaozuo",
                "civil-affairs-jiaozuo",
                "public-security-jiaozuo",
                "real-estate-jiaozuo",
                "provident-fund-jiaozuo",
                "market-regulation-jiaozuo",
            ),
            _PERSON_DATASETS
            | ({"civil_affairs.allowances"} if p.id_number in receivers else set())
            | {name for name, holders in found.items() if p.id_number in holders},
        )
        for index, p in enumerate(people)
    ]
    debtors.append(
        _debtor(
            Subject.organisation(firm.uscc, firm.name),
            len(debtors),
            chooser,
            today,
            (*bank_plan[firm.uscc], "tax-jiaozuo"),
            frozenset({"bank.accounts", "tax.refunds"}),
        )
    )
    return DemoWorld(
        seed,
        today,
        tuple(agencies),
        COURTS,
        population.people,
        population.households,
        population.organisations,
        tuple(debtors),
    )


def _debtor_candidates(population: Population) -> list[Person]:
    """Heads of married households with children: data in every register."""
    married = {m.husband.id_number for m in population.marriages if m.divorced_on is None}
    married |= {m.wife.id_number for m in population.marriages if m.divorced_on is None}
    return [
        home.head
        for home in population.households
        if len(home.members) > 2 and home.head.id_number in married
    ]


def _debtor(
    subject: Subject,
    index: int,
    rng: random.Random,
    today: datetime.date,
    agencies: tuple[str, ...],
    datasets: frozenset[str],
) -> DemoDebtor:
    court = COURTS[index % len(COURTS)]
    case_number = f"({today.year}){court.case_code}执{rng.randint(100, 2999)}号"
    return DemoDebtor(subject, case_number, court.id, agencies, frozenset(datasets))
