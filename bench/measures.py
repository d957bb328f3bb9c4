"""Control measures: a freeze's round trip over the signed transport, and the expiry report.

1. **Round trip** (target: remote p50 at most 1.3 x the agency's own latency). A demo
   bank runs as its own process (``credgate connector serve bank --measures-url ...
   --simulated-latency-ms D``: the real SQL ledger behind a D ms delay standing for the
   agency's own processing). This process submits freeze orders to it through
   :class:`connectors.remote.RemoteConnector` (sign, POST, verify the signed answer and
   its request hash), one after another, and compares the median with the agency's own
   latency: the same ledger and delay called in-process, with no transport. Every order
   is for a fresh measure id on the debtor's accounts, so each is a full submission
   (checks, ledger row, answer); after the first on an account the bank rejects as
   already frozen, which costs it the same work.
2. **Expiry report** (target: under 200 ms). A gateway database is bulk-filled with
   ``--measures`` measures (1,000,000 by default) over ``--cases`` cases; the officer is
   assigned to ``--officer-cases`` of them. ``expiringMeasures(days: 30)`` is then asked
   through GraphQL in-process (token, query, database, audit append: the real path),
   ``--requests`` times; the p50 and p99 are reported.

    .venv/bin/python -m bench.measures [--delay-ms 20] [--orders 200]
        [--measures 1000000] [--cases 20000] [--officer-cases 50] [--requests 50]
        [--database-url URL] [--skip-round-trip] [--skip-expiry]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert

from connectors.bank.adapter import t_acct
from connectors.control import AssetRef, LegalDocument, MeasureOrder
from connectors.control_testing import DelayedControls
from connectors.demo import seed_demo_agencies
from connectors.registry import build_controlled
from connectors.remote import RemoteAgency, RemoteConnector
from connectors.sdk import LegalAuthority, Subject
from connectors.signing import TrustedKeys, generate_key_file, load_public_key, public_pem
from gateway import migrate
from gateway.app import create_app
from gateway.auth import scopes
from gateway.auth.clients import ClientRegistration, ClientStore
from gateway.auth.principal import Role
from gateway.case_store import case_officers, cases, courts, officers
from gateway.db import create_db_engine
from gateway.keys import init_keys, load_keys
from gateway.measures.store import MeasureStore, measures
from gateway.settings import load_settings

PORT = 9391
OFFICER = "officer-bench-001"
COURT = "court-bench"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- 1. round trip --------------------------------------------------------------


def _orders(subject: Subject, accounts: list[str], count: int, tag: str) -> list[MeasureOrder]:
    today = datetime.date.today()
    authority = LegalAuthority("(2026)豫0823执1000号", "court-wuzhi", "officer-wz-001", "notice")
    return [
        MeasureOrder(
            measure_id=f"bench-{tag}-{index:06d}",
            kind="freeze",
            authority=authority,
            subject=subject,
            asset=AssetRef("bank.accounts", accounts[index % len(accounts)]),
            ruling=LegalDocument("(2026)豫0823执1000号之一", today),
            notice=LegalDocument("(2026)豫0823执1000号之二", today),
            amount="100.00",
            until=today + datetime.timedelta(days=180),
        )
        for index in range(count)
    ]


def _wait_health(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the connector process exited")
        try:
            with urllib.request.urlopen(f"{url}/v1/health", timeout=1):  # noqa: S310 - loopback
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise SystemExit("the connector did not start")


async def _time_submits(connector: Any, orders: list[MeasureOrder]) -> list[float]:
    timings = []
    for order in orders:
        started = time.perf_counter()
        await connector.submit(order)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def round_trip(work: Path, delay_ms: float, count: int) -> dict[str, float]:
    """Remote and in-process freeze submissions against the same kind of ledger."""
    world = seed_demo_agencies(work / "agencies")
    bank = world.agency("bank-icbc")
    debtor = world.debtors[0].subject
    engine = create_engine(bank.database_url)
    with engine.connect() as connection:
        accounts = [
            str(row[0]).strip()
            for row in connection.execute(
                t_acct.select()
                .with_only_columns(t_acct.c.acct_no)
                .where(t_acct.c.cust_cert_no == debtor.id_number)
            )
        ]
    engine.dispose()
    gateway_key, _ = generate_key_file(work / "gateway.pem")
    (work / "gateway.pub.pem").write_bytes(public_pem(gateway_key.public_key))
    generate_key_file(work / "agency.pem")
    command = [
        sys.executable, "-m", "gateway.cli", "connector", "serve", "bank",
        "--agency-id", bank.identity.id, "--database-url", bank.database_url,
        "--measures-url", f"sqlite:///{work / 'remote-ledger.sqlite'}",
        "--key", str(work / "agency.pem"), "--gateway-key", str(work / "gateway.pub.pem"),
        "--port", str(PORT), "--simulated-latency-ms", str(delay_ms),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{PORT}"
    local_inner = build_controlled(
        "bank", bank.identity, bank.database_url, f"sqlite:///{work / 'local-ledger.sqlite'}"
    )
    local = DelayedControls(local_inner, delay_ms / 1000)
    try:
        _wait_health(url, process)
        agency_key = load_public_key(work / "agency.pub.pem")
        remote = RemoteConnector(
            RemoteAgency(bank.identity, url, TrustedKeys([agency_key])), gateway_key
        )

        async def run() -> tuple[list[float], list[float]]:
            await _time_submits(remote, _orders(debtor, accounts, 10, "warm-remote"))
            await _time_submits(local, _orders(debtor, accounts, 10, "warm-local"))
            remote_ms = await _time_submits(remote, _orders(debtor, accounts, count, "remote"))
            local_ms = await _time_submits(local, _orders(debtor, accounts, count, "local"))
            await remote.aclose()
            return remote_ms, local_ms

        remote_ms, local_ms = asyncio.run(run())
    finally:
        process.terminate()
        process.wait(10)
        local_inner.close()
    remote_p50, local_p50 = statistics.median(remote_ms), statistics.median(local_ms)
    return {
        "remote_p50_ms": remote_p50,
        "remote_p99_ms": _p(remote_ms, 0.99),
        "agency_own_p50_ms": local_p50,
        "ratio": remote_p50 / local_p50,
    }


# -- 2. expiry report ---------------------------------------------------------------


def _fill(database_url: str, data_dir: Path, total: int, case_count: int, mine: int) -> Any:
    settings_file = data_dir / "credgate.toml"
    data_dir.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(
        f'[gateway]\npublic_url = "http://127.0.0.1:8000"\ndatabase_url = "{database_url}"\n'
        "[measures]\nrefresh_interval_s = 3600\n",
        "utf-8",
    )
    settings = load_settings(config=settings_file, data_dir=data_dir, env={})
    init_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    migrate.upgrade(engine)
    store = MeasureStore.from_keys(engine, load_keys(settings.keys_dir))
    today = datetime.date.today()
    now = datetime.datetime.now(datetime.UTC)
    numbers = [f"(2026)豫0823执{index:06d}号" for index in range(case_count)]
    with engine.begin() as connection:
        connection.execute(insert(courts), [{"id": COURT, "name": "基准法院"}])
        connection.execute(
            insert(officers),
            [{"id": OFFICER, "court_id": COURT}, {"id": "officer-other", "court_id": COURT}],
        )
        connection.execute(
            insert(cases),
            [
                {
                    "case_number": n,
                    "court_id": COURT,
                    "status": "open",
                    "filed_on": today,
                    "document_type": "assistance_inquiry_notice",
                    "document_number": n,
                    "updated_at": now,
                }
                for n in numbers
            ],
        )
        connection.execute(
            insert(case_officers),
            [
                {"case_number": n, "officer_id": OFFICER if i < mine else "officer-other"}
                for i, n in enumerate(numbers)
            ],
        )
    rng = random.Random(12)
    dummy = os.urandom(40)
    batch: list[dict[str, Any]] = []
    for index in range(total):
        case_index = rng.randrange(case_count)
        measure_id = f"m-{index:08d}"
        placing = index % 4 != 3
        mine_row = case_index < mine
        offset = rng.randrange(-400, 1095)
        row = {
            "id": measure_id,
            "request_digest": "0" * 64,
            "kind": "freeze" if placing else "deduct",
            "case_number": numbers[case_index],
            "court_id": COURT,
            "officer_id": OFFICER,
            "subject_index": "0" * 64,
            "subject_sealed": store._seal("resident_id:410802199001010010", measure_id)
            if mine_row
            else dummy,
            "agency_id": "bank-icbc",
            "dataset": "bank.accounts",
            "asset_ref": f"{index:064d}",
            "asset_sealed": store._seal(f"6222{index:015d}", measure_id) if mine_row else dummy,
            "status": rng.choice(("executed", "executed", "executed", "released", "expired")),
            "requested_cents": 100_000,
            "amount_cents": 100_000,
            "until": today + datetime.timedelta(days=offset) if placing else None,
            "ruling_number": "r",
            "ruling_date": today,
            "notice_number": "n",
            "notice_date": today,
            "created_at": now,
            "updated_at": now,
        }
        batch.append(row)
        if len(batch) == 10_000:
            with engine.begin() as connection:
                connection.execute(insert(measures), batch)
            batch = []
    if batch:
        with engine.begin() as connection:
            connection.execute(insert(measures), batch)
    client, secret = ClientStore(engine).register(
        ClientRegistration(
            name="bench-officer",
            role=Role.OFFICER,
            scopes=frozenset({scopes.CONTROL}),
            court_id=COURT,
            officer_id=OFFICER,
        )
    )
    engine.dispose()
    return settings, client.client_id, secret


def expiry_report(
    database_url: str | None, work: Path, total: int, case_count: int, mine: int, requests: int
) -> dict[str, float]:
    """Fill the database, then time ``expiringMeasures(days: 30)`` through GraphQL."""
    url = database_url or f"sqlite:///{work / 'gateway.sqlite'}"
    started = time.perf_counter()
    settings, client_id, secret = _fill(url, work / "gateway", total, case_count, mine)
    filled_s = time.perf_counter() - started
    query = "{ expiringMeasures(days: 30, first: 200) { id effectiveUntil caseNumber } }"

    async def run() -> tuple[list[float], int]:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http,
        ):
            form = {"grant_type": "client_credentials"}
            token = (await http.post("/oauth/token", data=form, auth=(client_id, secret))).json()[
                "access_token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            timings, found = [], 0
            for index in range(requests + 5):
                begun = time.perf_counter()
                response = await http.post("/graphql", json={"query": query}, headers=headers)
                elapsed = (time.perf_counter() - begun) * 1000
                body = response.json()
                assert "errors" not in body, body
                found = len(body["data"]["expiringMeasures"])
                if index >= 5:  # The first few warm caches and pools.
                    timings.append(elapsed)
            return timings, found

    timings, found = asyncio.run(run())
    return {
        "measures": total,
        "fill_s": filled_s,
        "expiring_found": found,
        "p50_ms": statistics.median(timings),
        "p99_ms": _p(timings, 0.99),
    }


def main(argv: list[str] | None = None) -> int:
    """Run both parts and print their figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--measures", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--officer-cases", type=int, default=50)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--skip-round-trip", action="store_true")
    parser.add_argument("--skip-expiry", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="credgate-bench-measures-") as raw:
        work = Path(raw)
        if not args.skip_round_trip:
            trip = round_trip(work / "trip", args.delay_ms, args.orders)
            verdict = "ok" if trip["ratio"] <= 1.3 else "OVER TARGET"
            print(
                f"freeze round trip: remote p50 {trip['remote_p50_ms']:.2f} ms "
                f"(p99 {trip['remote_p99_ms']:.2f}), agency's own p50 "
                f"{trip['agency_own_p50_ms']:.2f} ms: ratio {trip['ratio']:.3f} "
                f"(target <= 1.3: {verdict})"
            )
        if not args.skip_expiry:
            (work / "expiry").mkdir()
            report = expiry_report(
                args.database_url,
                work / "expiry",
                args.measures,
                args.cases,
                args.officer_cases,
                args.requests,
            )
            verdict = "ok" if report["p50_ms"] < 200 else "OVER TARGET"
            print(
                f"expiry report over {report['measures']:,} measures (filled in "
                f"{report['fill_s']:.0f} s): {report['expiring_found']} expiring, p50 "
                f"{report['p50_ms']:.2f} ms, p99 {report['p99_ms']:.2f} ms "
                f"(target < 200 ms: {verdict})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
