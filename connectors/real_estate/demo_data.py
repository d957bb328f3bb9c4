"""Demo data for the Jiaozuo real estate registration centre: homes, mortgages, seals."""

from __future__ import annotations

import datetime
import random
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import Engine, insert

from connectors.demo_people import REGIONS, Household, Population, date_between
from connectors.real_estate.adapter import bdc_cf, bdc_dyaq, bdc_qlr, bdc_qlxx, metadata

__all__ = ["MORTGAGEES", "SEALING_COURTS", "seed_real_estate"]

MORTGAGEES = (
    "中国建设银行股份有限公司焦作分行",
    "中国工商银行股份有限公司焦作分行",
    "中国农业银行股份有限公司焦作分行",
    "焦作中旅银行股份有限公司",
    "焦作市住房公积金管理中心",
)
SEALING_COURTS = (  # Courts other than the demo officer's, with their case codes.
    ("焦作市山阳区人民法院", "豫0811"),
    ("郑州市中原区人民法院", "豫0102"),
    ("焦作市中级人民法院", "豫08"),
)
_OWNERSHIP_SHARE = {"0": Decimal("100.00"), "1": Decimal("50.00"), "2": Decimal("50.00")}


def seed_real_estate(
    engine: Engine,
    population: Population,
    plan: Mapping[str, frozenset[str]],
    rng: random.Random,
    today: datetime.date,
) -> dict[str, set[str]]:
    """Recreate the register and fill it.

    ``plan`` names heads of household that must own a home (``owners``), and of
    those the ones whose home is mortgaged (``mortgaged``) or sealed by another
    court (``sealed``); other households own homes by chance, and nothing else
    about a planned owner is left to chance.

    Returns:
        The ID numbers of the holders with records in each dataset.
    """
    owners, mortgaged, sealed = plan["owners"], plan["mortgaged"], plan["sealed"]
    rows: dict[str, list[dict[str, object]]] = {"rights": [], "holders": [], "mortgages": []}
    rows["seals"] = []
    holders: dict[str, set[str]] = {
        "real_estate.rights": set(),
        "real_estate.mortgages": set(),
        "real_estate.seals": set(),
    }
    for index, home in enumerate(population.households):
        head = home.head.id_number
        planned = head in owners
        if not planned and rng.random() >= 0.4:
            continue
        properties = 1 + (rng.random() < 0.3)
        for number in range(properties):
            mortgage = head in mortgaged if planned else rng.random() < 0.3
            seal = head in sealed if planned else rng.random() < 0.05
            certificate = (
                f"豫({2008 + (index * 7 + number) % 16})焦作市不动产权第{index:05d}{number:02d}号"
            )
            people = _add_right(rows, rng, home, certificate, number, mortgage, seal, today)
            holders["real_estate.rights"] |= people
            if mortgage and number == 0:
                holders["real_estate.mortgages"] |= people
            if seal and number == 0:
                holders["real_estate.seals"] |= people
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(bdc_qlxx), rows["rights"])
        connection.execute(insert(bdc_qlr), rows["holders"])
        if rows["mortgages"]:
            connection.execute(insert(bdc_dyaq), rows["mortgages"])
        if rows["seals"]:
            connection.execute(insert(bdc_cf), rows["seals"])
    return holders


def _add_right(
    rows: dict[str, list[dict[str, object]]],
    rng: random.Random,
    home: Household,
    certificate: str,
    number: int,
    mortgage: bool,
    seal: bool,
    today: datetime.date,
) -> set[str]:
    """One right (the home first, then a parking space or shop), its holders and burdens."""
    head = home.head
    spouse = home.members[1][0] if len(home.members) > 1 and home.members[1][1] == "10" else None
    ownership = "0" if spouse is None else rng.choice("012")
    registered = date_between(rng, head.birth_date + datetime.timedelta(days=25 * 365), today)
    use = "10" if number == 0 else rng.choice(("40", "20"))
    area = {"10": rng.randint(5500, 16000), "40": rng.randint(1200, 1500)}.get(
        use, rng.randint(3000, 20000)
    )
    region = next(r for r in REGIONS if r.code == home.region_code)
    location = (
        home.address
        if number == 0
        else f"河南省焦作市{region.name}{rng.choice(region.streets)}{rng.randint(1, 399)}号"
        + ("地下车位" if use == "40" else "商铺")
    )
    # 28 characters: region, street and block codes, "GB" parcel, "F" building and unit.
    unit = f"{home.region_code}{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}GB"
    unit += f"{rng.randint(1, 99999):05d}F{rng.randint(1, 99999999):08d}"
    status = "2" if seal else "1" if mortgage else "0"
    rows["rights"].append(
        {
            "bdcqzh": certificate,
            "bdcdyh": unit,
            "zl": location,
            "qllx": "04",
            "ghyt": use,
            "mj": Decimal(area) / 100,
            "gyfs": ownership,
            "djsj": registered,
            "qszt": status if number == 0 else "0",
        }
    )
    people = [head] if ownership == "0" or spouse is None else [head, spouse]
    for person in people:
        share = _OWNERSHIP_SHARE[ownership]
        rows["holders"].append(
            {"bdcqzh": certificate, "zjh": person.id_number, "qlrmc": person.name, "qlbl": share}
        )
    if number == 0 and mortgage:
        years = rng.choice((10, 20, 30))
        serial = len(rows["mortgages"]) + 1
        rows["mortgages"].append(
            {
                "bdcdjzmh": f"豫({registered.year})焦作市不动产证明第{serial:07d}号",
                "bdcqzh": certificate,
                "dyqr": rng.choice(MORTGAGEES),
                "bdbzzqse": Decimal(rng.randint(200, 1200) * 1000),
                "zwlxqssj": registered,
                "zwlxjssj": registered.replace(year=registered.year + years, day=1),
                "djsj": registered,
                "zxbz": "0",
            }
        )
    if number == 0 and seal:
        court, code = rng.choice(SEALING_COURTS)
        since = date_between(rng, today - datetime.timedelta(days=700), today)
        rows["seals"].append(
            {
                "cfbh": f"CF{since:%Y%m%d}{len(rows['seals']) + 1:04d}",
                "bdcqzh": certificate,
                "cfjg": court,
                "cfwh": f"({since.year}){code}执保{rng.randint(10, 999)}号",
                "cflx": "1",
                "cfqssj": since,
                "cfjssj": since.replace(year=since.year + 3, day=1),
                "jfbz": "0",
            }
        )
    return {person.id_number for person in people}
