"""Demo data for the Jiaozuo civil affairs bureau: marriages and assistance."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from sqlalchemy import Engine, insert

from connectors.civil_affairs.adapter import hydj_xx, jz_dbdx, metadata
from connectors.demo_people import Household, Population

__all__ = ["seed_civil_affairs"]


def seed_civil_affairs(
    engine: Engine,
    population: Population,
    must_receive: frozenset[str],
    rng: random.Random,
    today: datetime.date,
) -> None:
    """Recreate the tables and fill them; ``must_receive`` people get an allowance."""
    registrations: list[dict[str, object]] = []
    for marriage in population.marriages:
        events = [("IA", marriage.registered_on)]
        if marriage.divorced_on is not None:
            events.append(("IB", marriage.divorced_on))
        for code, day in events:
            registrations.append(
                {
                    "djxh": f"J{day:%Y%m%d}{len(registrations):06d}",
                    "ywlx": code,
                    "djrq": day,
                    "djjg_mc": marriage.office,
                    "nf_xm": marriage.husband.name,
                    "nf_sfzh": marriage.husband.id_number,
                    "nvf_xm": marriage.wife.name,
                    "nvf_sfzh": marriage.wife.id_number,
                }
            )
    allowances: list[dict[str, object]] = []
    for home in population.households:
        head = home.head
        if head.id_number in must_receive or rng.random() < 0.08:
            allowances.append(_allowance(rng, home, len(allowances), today))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(hydj_xx), registrations)
        connection.execute(insert(jz_dbdx), allowances)


def _allowance(
    rng: random.Random, home: Household, serial: int, today: datetime.date
) -> dict[str, object]:
    urban = home.region_code[4:] in ("02", "03", "04", "11")  # The four city districts.
    program, low, high = ("城市最低生活保障", 560, 720) if urban else ("农村最低生活保障", 380, 520)
    if rng.random() < 0.15:
        program, low, high = "特困人员救助供养", 800, 1100
    start = _month(rng, datetime.date(2018, 1, 1), today - datetime.timedelta(days=90))
    state = rng.choices(("1", "2", "3"), (6, 1, 3))[0]
    end = _month(rng, start, today) if state == "3" else None
    per_person = Decimal(rng.randint(low, high))
    return {
        "dxbh": f"DB{home.region_code}{serial:06d}",
        "sfzh": home.head.id_number,
        "xm": home.head.name,
        "jzlb_mc": program,
        # Urban and rural minimum living allowances are paid per household member.
        "yjzje": per_person * (1 if program.startswith("特困") else len(home.members)),
        "ksny": f"{start:%Y%m}",
        "jsny": None if end is None else f"{end:%Y%m}",
        "zt_dm": state,
    }


def _month(rng: random.Random, first: datetime.date, last: datetime.date) -> datetime.date:
    day = first + datetime.timedelta(days=rng.randint(0, max(0, (last - first).days)))
    return day.replace(day=1)
