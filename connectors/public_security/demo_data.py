"""Demo data for the Jiaozuo public security bureau: household register, hotel stays,
vehicles and exit-entry documents."""

from __future__ import annotations

import datetime
import random

from sqlalchemy import Engine, insert

from connectors.demo_people import Person, Population, date_between
from connectors.public_security.adapter import (
    crj_zjxx,
    hjxx_hu,
    hjxx_ry,
    jdc_jbxx,
    ldxx_zsdj,
    metadata,
)

__all__ = ["HOTELS", "VEHICLE_MODELS", "seed_public_security"]

HOTELS: tuple[tuple[str, str, str], ...] = (  # (name, city, address)
    ("焦作迎宾馆", "焦作市", "河南省焦作市山阳区人民路1188号"),
    ("锦江之星焦作解放路店", "焦作市", "河南省焦作市解放区解放中路266号"),
    ("如家酒店焦作火车站店", "焦作市", "河南省焦作市解放区站前路18号"),
    ("云台山假日酒店", "焦作市", "河南省焦作市修武县云台大道66号"),
    ("郑州金水河大酒店", "郑州市", "河南省郑州市金水区金水路115号"),
    ("郑州二七商务酒店", "郑州市", "河南省郑州市二七区大学路36号"),
    ("洛阳牡丹城宾馆", "洛阳市", "河南省洛阳市涧西区西苑路6号"),
    ("北京王府井商务酒店", "北京市", "北京市东城区王府井大街57号"),
    ("上海外滩江景酒店", "上海市", "上海市虹口区黄浦路199号"),
    ("三亚亚龙湾海景度假酒店", "三亚市", "海南省三亚市吉阳区亚龙湾路99号"),
    ("广州沙面宾馆", "广州市", "广东省广州市荔湾区沙面南街1号"),
    ("杭州西湖湖滨酒店", "杭州市", "浙江省杭州市上城区湖滨路28号"),
)
_YEARS_OF_STAYS = 4
VEHICLE_MODELS: tuple[tuple[str, str, str], ...] = (  # (brand and model, type code, VIN maker)
    ("大众 朗逸", "K33", "LSV"),
    ("丰田 卡罗拉", "K33", "LFM"),
    ("比亚迪 秦PLUS", "K33", "LGX"),
    ("五菱 宏光", "K33", "LZW"),
    ("东风 天锦", "H11", "LGA"),
    ("宇通 ZK6", "K11", "LZY"),
    ("雅迪 DE3", "M21", "LYD"),
)
_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_DOCUMENT_KINDS = (("14", "E"), ("21", "C"), ("25", "T"))  # (kind code, number prefix)


def seed_public_security(
    engine: Engine,
    population: Population,
    must_travel: frozenset[str],
    rng: random.Random,
    today: datetime.date,
    *,
    drivers: frozenset[str] = frozenset(),
    passport_holders: frozenset[str] = frozenset(),
) -> dict[str, set[str]]:
    """Recreate the tables and fill them; ``must_travel`` people get stays on both
    sides of the two-year mark, ``drivers`` a vehicle and ``passport_holders`` a
    valid passport. The others get vehicles and documents by chance, never the
    planned people.

    Returns:
        The ID numbers of the people with vehicles and with documents.
    """
    households = [
        {"hh": h.number, "hzxm": h.head.name, "zz": h.address, "ssxq_dm": h.region_code}
        for h in population.households
    ]
    people = [
        {
            "gmsfhm": person.id_number,
            "xm": person.name,
            "xb_dm": "1" if person.sex == "男" else "2",
            "csrq": person.birth_date,
            "yhzgx_dm": relation,
            "hh": home.number,
        }
        for home in population.households
        for person, relation in home.members
    ]
    stays: list[dict[str, object]] = []
    first = today - datetime.timedelta(days=365 * _YEARS_OF_STAYS)
    two_years_ago = today - datetime.timedelta(days=365 * 2)
    last = today - datetime.timedelta(days=5)  # Every stay has ended.
    for person in population.people:
        if person.birth_date.year > 2005:
            continue
        if person.id_number in must_travel:
            days = [
                date_between(rng, first, two_years_ago - datetime.timedelta(30)) for _ in range(3)
            ]
            days += [date_between(rng, two_years_ago, last) for _ in range(rng.randint(4, 8))]
        elif rng.random() < 0.4:
            days = [date_between(rng, first, last) for _ in range(rng.randint(1, 5))]
        else:
            continue
        stays += [_stay(rng, person, day, len(stays) + i) for i, day in enumerate(days)]
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(hjxx_hu), households)
        connection.execute(insert(hjxx_ry), people)
        connection.execute(insert(ldxx_zsdj), stays)
        vehicles = _vehicles(population, drivers, must_travel, rng, today)
        connection.execute(insert(jdc_jbxx), vehicles)
        documents = _documents(population, passport_holders, must_travel, rng, today)
        connection.execute(insert(crj_zjxx), documents)
    return {
        "public_security.vehicles": {str(v["syrzjhm"]) for v in vehicles},
        "public_security.passports": {str(d["gmsfhm"]) for d in documents},
    }


def _vehicles(
    population: Population,
    drivers: frozenset[str],
    planned: frozenset[str],
    rng: random.Random,
    today: datetime.date,
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    plates: set[str] = set()
    for person in population.people:
        if person.birth_date.year > 2003:
            continue
        if person.id_number in planned:
            count = 1 if person.id_number in drivers else 0
        else:
            count = rng.choice((1, 2)) if rng.random() < 0.3 else 0
        for _ in range(count):
            model, type_code, maker = rng.choice(VEHICLE_MODELS)
            plate = "豫H" + "".join(rng.choice(_PLATE_CHARS) for _ in range(5))
            while plate in plates:
                plate = "豫H" + "".join(rng.choice(_PLATE_CHARS) for _ in range(5))
            plates.add(plate)
            rows.append(
                {
                    "hphm": plate,
                    "syrzjhm": person.id_number,
                    "syr": person.name,
                    "clpp": model,
                    "clsbdh": maker + "".join(rng.choice(_VIN_CHARS) for _ in range(14)),
                    "cllx": type_code,
                    "ccdjrq": date_between(
                        rng, person.birth_date + datetime.timedelta(days=18 * 366), today
                    ),
                    "zt": rng.choices(("A", "D", "K", "E"), (80, 10, 5, 5))[0],
                }
            )
    return rows


def _documents(
    population: Population,
    holders: frozenset[str],
    planned: frozenset[str],
    rng: random.Random,
    today: datetime.date,
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for person in population.people:
        kinds: tuple[tuple[str, str], ...]
        if person.id_number in planned:
            kinds = _DOCUMENT_KINDS[:1] if person.id_number in holders else ()
        elif rng.random() < 0.2:
            kinds = tuple(rng.sample(_DOCUMENT_KINDS, rng.choice((1, 1, 2))))
        else:
            kinds = ()
        for code, prefix in kinds:
            # A planned holder's passport is in force: issued within the last five years.
            years = 5 if person.id_number in planned else 12
            earliest = max(person.birth_date, today - datetime.timedelta(days=years * 365))
            issued = date_between(rng, earliest, today)
            expires = issued.replace(year=issued.year + 10, day=min(issued.day, 28))
            status = "1" if expires >= today else "2"
            if person.id_number not in planned and rng.random() < 0.05:
                status = "3"
            rows.append(
                {
                    "zjhm": f"{prefix}{rng.randrange(10**4):04d}{len(rows):04d}",
                    "gmsfhm": person.id_number,
                    "zjzl": code,
                    "qfrq": issued,
                    "yxqz": expires,
                    "qfjg": "公安部出入境管理局" if code == "14" else "河南省公安厅出入境管理局",
                    "zjzt": status,
                }
            )
    return rows


def _stay(rng: random.Random, person: Person, day: datetime.date, serial: int) -> dict[str, object]:
    hotel, city, address = rng.choice(HOTELS)
    check_in = datetime.datetime.combine(
        day, datetime.time(rng.randint(12, 23), rng.randint(0, 59))
    )
    nights = rng.choice((1, 1, 1, 2, 2, 3, 4))
    check_out = datetime.datetime.combine(
        day + datetime.timedelta(days=nights), datetime.time(rng.randint(7, 12), rng.randint(0, 59))
    )
    return {
        "zsdjbh": f"LD{day:%Y%m%d}{serial:08d}",
        "zjhm": person.id_number,
        "xm": person.name,
        "lgmc": hotel,
        "ssds": city,
        "lgdz": address,
        "rzsj": check_in,
        "ldsj": check_out,
    }
