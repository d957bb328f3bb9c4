"""The demo's control measures: a claim on the first case, and ready-to-paste examples.

The first demo case gets an outstanding claim and its presiding officer (the
demo officer); ``demo.json`` gets, under ``measures``, the GraphQL documents and
variables to freeze one of its debtor's accounts, follow the freeze, renew it,
deduct from it, find every step in the audit log, and seal up (查封) the
debtor's real estate at the registration centre.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from connectors.bank.adapter import t_acct
from connectors.demo import DemoWorld
from connectors.real_estate.adapter import bdc_qlr, bdc_qlxx
from connectors.sql import read_only_sqlite_url
from gateway.case_store import CaseEntry
from gateway.keys import load_keys
from gateway.measures.store import CaseEnforcement, MeasureStore
from gateway.settings import Settings

__all__ = ["DEMO_CLAIM_CENTS", "demo_measures"]

DEMO_CLAIM_CENTS = 8_000_000
"""80,000.00 yuan outstanding on the first demo case."""
_REAL_ESTATE = "real-estate-jiaozuo"

_FIELDS = (
    "id kind status requestedAmount amount effectiveUntil agencyReference reason actsOn "
    "ruling { number date } notice { number date }"
)
FREEZE = f"mutation Freeze($input: PlaceMeasureInput!) {{ freeze(input: $input) {{ {_FIELDS} }} }}"
MEASURE = f"query Measure($id: String!) {{ measure(id: $id) {{ {_FIELDS} }} }}"
RENEW = (
    f"mutation Renew($input: MeasureActionInput!) {{ renewFreeze(input: $input) {{ {_FIELDS} }} }}"
)
DEDUCT = f"mutation Deduct($input: MeasureActionInput!) {{ deduct(input: $input) {{ {_FIELDS} }} }}"
SEAL_UP = f"mutation SealUp($input: PlaceMeasureInput!) {{ sealUp(input: $input) {{ {_FIELDS} }} }}"
RELEASE = (
    f"mutation Release($input: MeasureActionInput!) {{ releaseSeal(input: $input) "
    f"{{ {_FIELDS} }} }}"
)
MY_MEASURES = f"{{ myMeasures {{ {_FIELDS} caseNumber agencyId assetKey }} }}"
EXPIRING = "{ expiringMeasures(days: 30) { id kind effectiveUntil agencyId } }"
AUDIT = (
    "query Steps($id: String!) { auditEvents(filter: {measureId: $id}) { edges { node { "
    "index kind outcome operationKind measures { measureId kind step status amount until "
    "reference reason ruling { number date } notice { number date } } } } } }"
)


def _account(settings: Settings, holder: str) -> tuple[str, str] | None:
    """An account of ``holder`` at a demo bank: (agency id, account number)."""
    for agency_id in ("bank-icbc", "bank-ccb", "bank-abc"):
        path = settings.data_dir / "agencies" / f"{agency_id}.sqlite"
        if not path.is_file():
            continue
        engine = create_engine(read_only_sqlite_url(path))
        try:
            with engine.connect() as connection:
                number = connection.execute(
                    select(t_acct.c.acct_no)
                    .where(t_acct.c.cust_cert_no == holder)
                    .order_by(t_acct.c.bal_cents.desc())
                    .limit(1)
                ).scalar_one_or_none()
        finally:
            engine.dispose()
        if number is not None:
            return agency_id, str(number).strip()
    return None


def _property(settings: Settings, holder: str) -> str | None:
    """A title certificate number of a right ``holder`` holds, one no court sealed if any.

    The demo's richest debtor has one home, sealed by another court: sealing it
    again is, at a real centre, a waiting seal (轮候查封); the demo ledger keeps
    only the court's own measures, so it executes.
    """
    path = settings.data_dir / "agencies" / f"{_REAL_ESTATE}.sqlite"
    if not path.is_file():
        return None
    engine = create_engine(read_only_sqlite_url(path))
    try:
        with engine.connect() as connection:
            number = connection.execute(
                select(bdc_qlxx.c.bdcqzh)
                .join(bdc_qlr, bdc_qlr.c.bdcqzh == bdc_qlxx.c.bdcqzh)
                .where(bdc_qlr.c.zjh == holder)
                .order_by(bdc_qlxx.c.qszt == "2", bdc_qlxx.c.djsj, bdc_qlxx.c.bdcqzh)
                .limit(1)
            ).scalar_one_or_none()
    finally:
        engine.dispose()
    return None if number is None else str(number)


def demo_measures(
    settings: Settings, engine: Engine, world: DemoWorld, first: CaseEntry, officer_id: str
) -> dict[str, Any]:
    """Record the first case's claim and return demo.json's ``measures`` examples."""
    store = MeasureStore.from_keys(engine, load_keys(settings.keys_dir))
    store.set_enforcement(CaseEnforcement(first.case_number, DEMO_CLAIM_CENTS, officer_id))
    respondent = first.respondents[0]
    found = _account(settings, respondent.id_number)
    if found is None:
        return {}
    agency_id, account = found
    today = world.today
    sequence = first.case_number.removesuffix("号")
    ruling = {
        "number": f"{sequence}号之二",
        "date": (today - datetime.timedelta(days=1)).isoformat(),
    }
    notice = {"number": f"{sequence}号之三", "date": today.isoformat()}
    key = "residentId" if respondent.id_type == "resident_id" else "creditCode"
    freeze_id = "demo-freeze-0001"
    examples: dict[str, Any] = {
        "caseNumber": first.case_number,
        "claim": f"{DEMO_CLAIM_CENTS / 100:.2f}",
        "freeze_example": {
            "query": FREEZE,
            "variables": {
                "input": {
                    "requestId": freeze_id,
                    "caseNumber": first.case_number,
                    "subject": {key: respondent.id_number, "name": respondent.name},
                    "agencyId": agency_id,
                    "assetKey": account,
                    "amount": "20000.00",
                    "until": (today + datetime.timedelta(days=180)).isoformat(),
                    "ruling": ruling,
                    "notice": notice,
                }
            },
        },
        "measure_example": {"query": MEASURE, "variables": {"id": freeze_id}},
        "renew_example": {
            "query": RENEW,
            "variables": {
                "input": {
                    "requestId": "demo-renew-0001",
                    "measureId": freeze_id,
                    "ruling": ruling,
                    "notice": notice,
                }
            },
        },
        "deduct_example": {
            "query": DEDUCT,
            "variables": {
                "input": {
                    "requestId": "demo-deduct-0001",
                    "measureId": freeze_id,
                    "amount": "5000.00",
                    "ruling": ruling,
                    "notice": notice,
                }
            },
        },
        "my_measures_example": {"query": MY_MEASURES},
        "expiring_example": {"query": EXPIRING},
        "audit_example": {"query": AUDIT, "variables": {"id": freeze_id}},
    }
    certificate = _property(settings, respondent.id_number)
    if certificate is not None:
        seal_id = "demo-seal-0001"
        examples["seal_up_example"] = {
            "query": SEAL_UP,
            "variables": {
                "input": {
                    "requestId": seal_id,
                    "caseNumber": first.case_number,
                    "subject": {key: respondent.id_number, "name": respondent.name},
                    "agencyId": _REAL_ESTATE,
                    "dataset": "real_estate.rights",
                    "assetKey": certificate,
                    "ruling": ruling,
                    "notice": notice,
                }
            },
        }
        examples["seal_measure_example"] = {"query": MEASURE, "variables": {"id": seal_id}}
        examples["release_seal_example"] = {
            "query": RELEASE,
            "variables": {
                "input": {
                    "requestId": "demo-release-0001",
                    "measureId": seal_id,
                    "ruling": ruling,
                    "notice": notice,
                }
            },
        }
    return examples
