"""Demo data for the Jiaozuo tax bureau: income tax and VAT refunds."""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Engine, insert
from stdnum import luhn

from connectors.bank.demo_data import AccountRef
from connectors.demo_people import Population
from connectors.tax.adapter import metadata, refund_record

__all__ = ["seed_tax"]

_OTHER_BANK = "中国邮政储蓄银行"  # Where refunds go for holders without a demo bank account.
_FIRM_TAXES = ("增值税", "企业所得税")


def seed_tax(
    engine: Engine,
    population: Population,
    accounts: Sequence[AccountRef],
    must_serve: frozenset[str],
    rng: random.Random,
    today: datetime.date,
) -> None:
    """Recreate the refund table and fill it; ``must_serve`` taxpayers get refunds.

    Refunds are paid into the taxpayer's own accounts from ``accounts`` when it
    has any, so bank and tax data agree.
    """
    by_holder: dict[str, list[AccountRef]] = {}
    for account in accounts:
        by_holder.setdefault(account.holder_id, []).append(account)
    payers = [
        (p.id_number, p.name, "个人所得税") for p in population.people if p.birth_date.year <= 2000
    ]
    payers += [(f.uscc, f.name, rng.choice(_FIRM_TAXES)) for f in population.organisations]
    rows: list[dict[str, object]] = []
    for number, name, tax in payers:
        if number not in must_serve and rng.random() > 0.3:
            continue
        if number not in by_holder:
            by_holder[number] = [_postal_account(rng, number)]
        years = sorted(rng.sample(range(today.year - 4, today.year), rng.randint(1, 3)))
        for year in years:
            account = rng.choice(by_holder[number])
            rows.append(_row(rng, len(rows), (number, name, tax), year, account, today))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(refund_record), rows)


def _row(
    rng: random.Random,
    serial: int,
    payer: tuple[str, str, str],
    year: int,
    account: AccountRef,
    today: datetime.date,
) -> dict[str, object]:
    number, name, tax = payer
    # Annual income tax reconciliation (年度汇算) runs from March to June of the next year.
    due = datetime.date(year + 1, 3, 1) + datetime.timedelta(days=rng.randint(0, 121))
    rejected = rng.random() < 0.05
    status = "01" if due > today else "03" if rejected else "02"
    cents = (
        rng.randint(2_000, 500_000) if tax == "个人所得税" else rng.randint(1_000_000, 200_000_000)
    )
    return {
        "tksqxh": f"{year + 1}41080{serial:09d}",
        "nsrsbh": number,
        "nsrmc": name,
        "skssnd": year,
        "zsxm_mc": tax,
        "tkje": Decimal(cents) / 100,
        "skrzh": account.account_number,
        "skyh_mc": account.bank_name,
        "tkrq": due,
        "tkzt_dm": status,
    }


def _postal_account(rng: random.Random, holder_id: str) -> AccountRef:
    body = "621799" + "".join(str(rng.randrange(10)) for _ in range(12))
    return AccountRef(holder_id, _OTHER_BANK, body + luhn.calc_check_digit(body))
