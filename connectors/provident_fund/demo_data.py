"""Demo data for the Jiaozuo housing provident fund centre: personal accounts."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from sqlalchemy import Engine, insert

from connectors.demo_people import Population, date_between
from connectors.provident_fund.adapter import gjj_grzh, metadata

__all__ = ["EMPLOYERS", "seed_provident_fund"]

EMPLOYERS = (
    "焦作市人民医院",
    "焦作市第一中学",
    "焦作市自来水有限公司",
    "河南理工大学",
    "焦作市山阳区人民政府",
    "焦作煤业(集团)有限责任公司",
    "多氟多新材料股份有限公司",
    "中原内配集团股份有限公司",
)
_STATES = ("1", "2", "3", "9")  # normal, dormant, frozen, closed
_STATE_WEIGHTS = (75, 15, 3, 7)


def seed_provident_fund(
    engine: Engine,
    population: Population,
    holders: frozenset[str],
    rng: random.Random,
    today: datetime.date,
) -> set[str]:
    """Recreate the account table and fill it; ``holders`` get a live account.

    Returns:
        The ID numbers of everyone with an account.
    """
    employers = EMPLOYERS + tuple(firm.name for firm in population.organisations)
    rows: list[dict[str, object]] = []
    for person in population.people:
        if person.birth_date.year > 2001:
            continue
        planned = person.id_number in holders
        if not planned and rng.random() >= 0.45:
            continue
        state = "1" if planned else rng.choices(_STATES, _STATE_WEIGHTS)[0]
        earliest = person.birth_date + datetime.timedelta(days=22 * 365)
        opened = date_between(rng, earliest, today - datetime.timedelta(days=90))
        monthly = Decimal(rng.randint(300, 3000))
        months = max(1, (today - opened).days // 30)
        balance = Decimal(0) if state == "9" else monthly * rng.randint(months // 3, months)
        rows.append(
            {
                "grzh": f"{person.id_number[:4]}{rng.randrange(10**8):08d}",
                "zjhm": person.id_number,
                "xingming": person.name,
                "dwmc": rng.choice(employers),
                "grzhye": balance.quantize(Decimal("0.01")),
                "yjce": monthly,
                "khrq": f"{opened:%Y%m%d}",
                "grzhzt": state,
            }
        )
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(gjj_grzh), rows)
    return {str(row["zjhm"]) for row in rows}
