"""Demo data for the Jiaozuo market regulation administration: companies, investors, posts."""

from __future__ import annotations

import datetime
import random
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import Engine, insert

from connectors.demo_people import Person, Population, date_between
from connectors.market_regulation.adapter import metadata, qy_jbxx, qy_tzr, qy_zyry

__all__ = ["seed_market_regulation"]


def seed_market_regulation(
    engine: Engine,
    population: Population,
    plan: Mapping[str, frozenset[str]],
    rng: random.Random,
    today: datetime.date,
) -> dict[str, set[str]]:
    """Recreate the register and fill it with the population's companies.

    Every company has its legal representative as a shareholder and a
    supervisor; ``plan["shareholders"]`` get a stake and ``plan["officers"]`` a
    post (director or manager) in some company besides.

    Returns:
        The ID numbers of the people with records in each dataset.
    """
    adults = [p for p in population.people if p.birth_date.year <= 2000]
    by_id = {p.id_number: p for p in population.people}
    firms = population.organisations
    investors: dict[str, list[Person]] = {firm.uscc: [firm.legal_representative] for firm in firms}
    for holder in sorted(plan["shareholders"]):
        investors[rng.choice(firms).uscc].append(by_id[holder])
    companies: list[dict[str, object]] = []
    holdings: list[dict[str, object]] = []
    posts: list[dict[str, object]] = []
    for firm in firms:
        status = rng.choices(("1", "2", "3"), (85, 10, 5))[0]
        founded = date_between(rng, datetime.date(2008, 1, 1), today - datetime.timedelta(400))
        companies.append({"tyshxydm": firm.uscc, "qymc": firm.name, "djzt": status})
        people = investors[firm.uscc] + rng.sample(adults, rng.choice((0, 1, 2)))
        people = list({p.id_number: p for p in people}.values())
        capital = Decimal(rng.randint(10, 500) * 100_000)
        weights = [rng.randint(1, 10) for _ in people]
        weights[0] += sum(weights)  # The legal representative holds most.
        shares = [Decimal(100 * w) / sum(weights) for w in weights]
        shares = [s.quantize(Decimal("0.01")) for s in shares]
        shares[0] += Decimal(100) - sum(shares)
        for person, share in zip(people, shares, strict=True):
            subscribed = (capital * share / 100).quantize(Decimal("0.01"))
            holdings.append(
                {
                    "gqdjbh": f"GQ{founded:%Y}{len(holdings) + 1:08d}",
                    "tyshxydm": firm.uscc,
                    "tzrzjhm": person.id_number,
                    "tzrmc": person.name,
                    "cgbl": share,
                    "rjcze": subscribed,
                    "sjcze": (subscribed * rng.choice((0, 20, 50, 100)) / 100).quantize(
                        Decimal("0.01")
                    ),
                    "djrq": date_between(rng, founded, today),
                    "gqzt": rng.choices(("0", "1", "2"), (80, 10, 10))[0],
                }
            )
        staff = [(firm.legal_representative, "01"), (rng.choice(adults), "03")]
        for person, post in staff:
            posts.append(_post(rng, len(posts), firm.uscc, person, post, founded, today))
    for officer in sorted(plan["officers"]):
        firm = rng.choice(firms)
        founded = datetime.date(2012, 1, 1)
        posts.append(
            _post(
                rng, len(posts), firm.uscc, by_id[officer], rng.choice(("02", "04")), founded, today
            )
        )
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(qy_jbxx), companies)
        connection.execute(insert(qy_tzr), holdings)
        connection.execute(insert(qy_zyry), posts)
    return {
        "market_regulation.equity": {str(h["tzrzjhm"]) for h in holdings},
        "market_regulation.posts": {str(p["zjhm"]) for p in posts},
    }


def _post(
    rng: random.Random,
    serial: int,
    uscc: str,
    person: Person,
    post: str,
    founded: datetime.date,
    today: datetime.date,
) -> dict[str, object]:
    return {
        "ryxh": f"RY{serial + 1:08d}",
        "tyshxydm": uscc,
        "zjhm": person.id_number,
        "xm": person.name,
        "zwdm": post,
        "rzrq": date_between(rng, founded, today),
    }
