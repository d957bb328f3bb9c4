"""Demo data for the three demo banks' Jiaozuo branches."""

from __future__ import annotations

import datetime
import random
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, insert
from stdnum import luhn

from connectors.bank.adapter import metadata, t_acct, t_brch
from connectors.demo_people import Population, date_between

__all__ = ["BANK_PROFILES", "AccountRef", "BankProfile", "seed_bank"]


@dataclass(frozen=True, slots=True)
class BankProfile:
    """What makes one demo bank's data look like its own."""

    bank_name: str
    branches: tuple[tuple[str, str], ...]  # (brch_no, brch_nm)
    debit_bin: str  # The first six digits of its debit cards.
    credit_bin: str
    account_prefix: str  # Of its deposit and corporate account numbers.


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account another agency's data may point at (e.g. where a refund went)."""

    holder_id: str
    bank_name: str
    account_number: str


BANK_PROFILES: Mapping[str, BankProfile] = {
    "bank-icbc": BankProfile(
        "中国工商银行",
        (
            ("170901", "焦作解放路支行"),
            ("170902", "焦作民主路支行"),
            ("170903", "焦作山阳支行"),
            ("170911", "武陟支行"),
            ("170915", "温县支行"),
        ),
        "622202",
        "625330",
        "1709",
    ),
    "bank-ccb": BankProfile(
        "中国建设银行",
        (
            ("410501", "焦作人民路支行"),
            ("410502", "焦作塔南路支行"),
            ("410521", "沁阳支行"),
            ("410522", "孟州支行"),
            ("410523", "博爱支行"),
        ),
        "621700",
        "625362",
        "4105",
    ),
    "bank-abc": BankProfile(
        "中国农业银行",
        (
            ("162001", "焦作分行营业部"),
            ("162002", "焦作中站支行"),
            ("162003", "焦作马村支行"),
            ("162021", "修武县支行"),
            ("162023", "武陟县支行"),
        ),
        "622848",
        "622836",
        "1620",
    ),
}

_STATUS_WEIGHTS = (("0", 80), ("2", 8), ("1", 7), ("9", 5))


def seed_bank(
    engine: Engine,
    profile: BankProfile,
    population: Population,
    decided: Mapping[str, bool],
    rng: random.Random,
    today: datetime.date,
) -> list[AccountRef]:
    """Recreate the bank's tables and fill them.

    ``decided`` says for some holders (ID number or USCC) whether they bank here;
    the others do by chance.

    Returns:
        The normal debit and current accounts, for refunds paid into them.
    """
    rows: list[dict[str, object]] = []
    adults = [p for p in population.people if _age(p.birth_date, today) >= 18]
    for person in adults:
        if decided.get(person.id_number, rng.random() < 0.35):
            for kind in ["D", *rng.sample(["D", "C", "T"], rng.choice((0, 0, 1, 2)))]:
                opened = date_between(rng, _add_years(person.birth_date, 18), today)
                rows.append(_row(rng, profile, ("01", person.id_number, person.name), kind, opened))
    for firm in population.organisations:
        if decided.get(firm.uscc, rng.random() < 0.4):
            for kind in ("S", *(("T",) if rng.random() < 0.5 else ())):
                opened = date_between(rng, datetime.date(2012, 1, 1), today)
                rows.append(_row(rng, profile, ("49", firm.uscc, firm.name), kind, opened))
    for row in rows:
        # A holder the court pursues keeps at least one live account here.
        if decided.get(str(row["cust_cert_no"])) and row["acct_tp_cd"] in ("D", "S"):
            row["acct_stat_cd"] = "0"
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(t_brch),
            [
                {"brch_no": no, "brch_nm": nm, "bank_nm": profile.bank_name}
                for no, nm in profile.branches
            ],
        )
        connection.execute(insert(t_acct), rows)
    return [
        AccountRef(str(row["cust_cert_no"]), profile.bank_name, str(row["acct_no"]))
        for row in rows
        if row["acct_tp_cd"] in ("D", "S") and row["acct_stat_cd"] == "0"
    ]


def _row(
    rng: random.Random,
    profile: BankProfile,
    holder: tuple[str, str, str],
    kind: str,
    opened: datetime.date,
) -> dict[str, object]:
    """One account; ``holder`` is (certificate type, certificate number, name)."""
    cert_type, cert_no, name = holder
    branch = rng.choice(profile.branches)[0]
    status = rng.choices([s for s, _ in _STATUS_WEIGHTS], [w for _, w in _STATUS_WEIGHTS])[0]
    if kind == "D":
        number = _card(rng, profile.debit_bin, 19)
        cents = rng.choice((rng.randint(0, 50_000), rng.randint(50_000, 2_000_000)))
    elif kind == "C":
        number = _card(rng, profile.credit_bin, 16)
        cents = -rng.randint(0, 3_000_000)
    else:
        number = f"{profile.account_prefix}{branch[-2:]}{rng.randrange(10**13):013d}"
        cents = rng.randint(1_000_000, 50_000_000 if kind == "T" else 500_000_000)
    return {
        "acct_no": number,
        "cust_cert_tp": cert_type,
        "cust_cert_no": cert_no,
        "cust_nm": name,
        "acct_tp_cd": kind,
        "acct_stat_cd": status,
        "ccy_cd": "840" if kind == "T" and rng.random() < 0.1 else "156",
        "bal_cents": 0 if status == "9" else cents,
        "open_dt": f"{opened:%Y%m%d}",
        "brch_no": branch,
    }


def _card(rng: random.Random, bin_: str, length: int) -> str:
    body = bin_ + "".join(str(rng.randrange(10)) for _ in range(length - len(bin_) - 1))
    return body + luhn.calc_check_digit(body)


def _age(born: datetime.date, today: datetime.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _add_years(day: datetime.date, years: int) -> datetime.date:
    return day.replace(year=day.year + years, day=min(day.day, 28))
