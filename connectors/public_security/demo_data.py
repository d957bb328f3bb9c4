"""Demo data for the Jiaozuo public security bureau: household register and hotel stays."""

from __future__ import annotations

import datetime
import random

from sqlalchemy import Engine, insert

from connectors.demo_people import Person, Population, date_between
from connectors.public_security.adapter import hjxx_hu, hjxx_ry, ldxx_zsdj, metadata

__all__ = ["HOTELS", "seed_public_security"]

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


def seed_public_security(
    engine: Engine,
    population: Population,
    must_travel: frozenset[str],
    rng: random.Random,
    today: datetime.date,
) -> None:
    """Recreate the tables and fill them; ``must_travel`` people get stays on both
    sides of the two-year mark."""
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
