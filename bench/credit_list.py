"""Benchmark of the dishonest-debtor list: bulk import and batch look-ups.

1. Writes a JSON-lines file of N entries (default 1,000,000, valid resident IDs
   spread over real Henan region codes and birth dates) and times
   ``credgate list import`` on it (target: under 120 s on SQLite).
2. Times ``dishonestStatus`` for 1,000 subjects (about 10% listed, 1% invalid)
   end to end through HTTP in-process (httpx ASGITransport: token check,
   GraphQL, the database, the audit log's fail-closed append), sequentially,
   with different subjects each time (target: p50 under 100 ms).

Usage:
    .venv/bin/python -m bench.credit_list [--entries 1000000] [--requests 50]
        [--database-url URL] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from stdnum.cn import ric

from gateway import migrate
from gateway.app import create_app
from gateway.auth import scopes
from gateway.auth.clients import ClientRegistration, ClientStore
from gateway.auth.principal import Role
from gateway.cli import main
from gateway.credit_list import store
from gateway.db import create_db_engine
from gateway.keys import init_keys
from gateway.services import build_services
from gateway.settings import load_settings

REGIONS = ("410802", "410803", "410804", "410811", "410821", "410822", "410823", "410825")
COURTS = (
    ("court-jiaozuo-zhongyuan", "焦作市中级人民法院", "豫08"),
    ("court-wuzhi", "武陟县人民法院", "豫0823"),
    ("court-jiefang", "焦作市解放区人民法院", "豫0802"),
)
STATUS = (
    "query($subjects: [SubjectInput!]!) { dishonestStatus(subjects: $subjects) { "
    "subject { idNumber } listed entries { entryId caseNumber courtName circumstance "
    "publishedOn } } }"
)
CIRCUMSTANCES = ("refuses_despite_ability", "evades_enforcement", "violates_property_reporting")


def person_id(rng: random.Random) -> str:
    """A valid resident ID number."""
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(18250))
    body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def write_entries(path: Path, count: int, rng: random.Random) -> list[str]:
    """Write ``count`` entries; returns a sample of the listed ID numbers."""
    sample: list[str] = []
    # Within the two-year term (art. 2): an expired entry is refused at import.
    published = datetime.date.today() - datetime.timedelta(days=90)
    filed = published - datetime.timedelta(days=180)
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            number = person_id(rng)
            court_id, court_name, code = COURTS[n % len(COURTS)]
            row = {
                "id_type": "resident_id",
                "id_number": number,
                "name": "张伟",
                "case_number": f"(2023){code}执{n}号",
                "court_id": court_id,
                "filed_on": filed.isoformat(),
                "basis_issuer": court_name,
                "basis_number": f"(2022){code}民初{n}号",
                "obligations": "偿还借款本金及利息",
                "performance": "not_performed",
                "circumstance": CIRCUMSTANCES[n % len(CIRCUMSTANCES)],
                "published_on": published.isoformat(),
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            if n % 97 == 0:
                sample.append(number)
    return sample


def prepare(data_dir: Path, database_url: str | None) -> Path:
    """A deployment with keys, a migrated database and the courts; returns its config."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "credgate.toml"
    url = database_url or f"sqlite:///{data_dir / 'credgate.sqlite'}"
    config.write_text(
        f'[gateway]\npublic_url = "http://127.0.0.1:8000"\ndatabase_url = "{url}"\n',
        encoding="utf-8",
    )
    settings = load_settings(config=config, data_dir=data_dir, env={})
    init_keys(settings.keys_dir)
    engine = create_db_engine(settings.database_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        store.ensure_courts(connection, [(court_id, name) for court_id, name, _ in COURTS])
    engine.dispose()
    return config


async def lookups(
    config: Path, listed: list[str], requests: int, rng: random.Random
) -> list[float]:
    """Milliseconds per ``dishonestStatus`` call of 1,000 subjects."""
    settings = load_settings(config=config, data_dir=config.parent, env={})
    services = build_services(settings)
    client, secret = ClientStore(services.engine).register(
        ClientRegistration(
            name=f"bench-bank-{rng.randrange(10**9)}",
            role=Role.AGENCY,
            agency_id="bank-icbc",
            scopes=frozenset({scopes.LIST_LOOKUP}),
        )
    )
    app = create_app(settings, services)
    timings: list[float] = []
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
        ) as http,
    ):
        response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, secret),
        )
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        for n in range(requests + 3):
            subjects: list[dict[str, Any]] = [
                {"residentId": rng.choice(listed)} for _ in range(100)
            ]
            subjects += [{"residentId": person_id(rng)} for _ in range(890)]
            subjects += [{"residentId": "41082319800101001" + str(d)} for d in range(10)]
            body = {"query": STATUS, "variables": {"subjects": subjects}}
            started = time.perf_counter()
            answer = await http.post("/graphql", json=body, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            assert answer.status_code == 200, answer.text
            assert len(answer.json()["data"]["dishonestStatus"]) == 1000
            if n >= 3:  # the first calls warm the parser cache and the connection pool
                timings.append(elapsed)
    return timings


def run() -> None:
    """Run both measurements and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    rng = random.Random(6)
    with tempfile.TemporaryDirectory(prefix="credgate-bench-list-") as scratch:
        data_dir = args.data_dir or Path(scratch)
        config = prepare(data_dir, args.database_url)
        path = data_dir / "entries.jsonl"
        listed = write_entries(path, args.entries, rng)
        print(f"{args.entries} entries written ({path.stat().st_size / 1e6:.0f} MB)")
        started = time.perf_counter()
        code = main(["list", "import", str(path), "--config", str(config)])
        seconds = time.perf_counter() - started
        print(f"import: {args.entries} entries in {seconds:.1f} s (exit {code}); target < 120 s")
        timings = asyncio.run(lookups(config, listed, args.requests, rng))
        p50 = statistics.median(timings)
        p95 = statistics.quantiles(timings, n=20)[-1]
        print(
            f"dishonestStatus, 1000 subjects, {len(timings)} calls: p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms, min {min(timings):.1f} ms (audit log included); target p50 < 100 ms"
        )


if __name__ == "__main__":
    run()
