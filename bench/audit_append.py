"""Audit append throughput: acknowledged events per second with concurrent writers.

Starts ``--processes`` gateway-like processes on one database. Each runs
``--concurrency`` request loops that append one realistic outcome event (a
subject, an agency call, field decisions) through the group-commit writer and
count it only once it is durable (acknowledged), while each process's
integrator signs checkpoints (one at a time) as in production. Afterwards the indices must
be exactly 0..N-1 and the log must verify. Target: at least 2,000 events/s on
SQLite and on PostgreSQL on a 2-core machine.

Usage:
    .venv/bin/python -m bench.audit_append [--database-url URL] [--processes 4]
        [--concurrency 64] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from gateway import migrate
from gateway.access_record import AccessRecord, AgencyCall, FieldDecisionRecord, FieldOutcome
from gateway.audit.events import RequestFacts, outcome_draft
from gateway.audit.log import AuditLog
from gateway.audit.verify import verify_log
from gateway.auth.principal import Principal, Role
from gateway.db import create_db_engine
from gateway.keys import init_keys, load_keys
from gateway.settings import load_settings

OFFICER = Principal(
    subject="officer-wz-001",
    client_id="cg_officer",
    role=Role.OFFICER,
    scopes=frozenset({"investigate"}),
    issuer="http://127.0.0.1:8000",
    token_id="bench-token-id",  # noqa: S106 - a token id (jti), not a secret
    court_id="court-wuzhi",
    officer_id="officer-wz-001",
)


def event_record(number: int) -> AccessRecord:
    return AccessRecord(
        operation="investigation",
        case_number="(2024)豫0823执123号",
        court_id="court-wuzhi",
        document="协助查询通知书",
        subjects=[f"41082319850714{number % 10000:04d}"],
        agency_calls=[
            AgencyCall("bank-icbc", {"bank.accounts": ["balance"]}, "ok", 12, "d1", "d2", 3)
        ],
        fields=[
            FieldDecisionRecord("bank", "bank.accounts", "balance", FieldOutcome.MASKED, ["p1"])
        ],
        policy_set_hash="sha256:policies",
    )


def _writer(data_dir: str, concurrency: int, seconds: float, start_at: float) -> int:
    settings = load_settings(data_dir=Path(data_dir), env={})
    engine = create_db_engine(settings.database_url, pool_size=4)
    audit = AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))

    async def run() -> int:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        await audit.start()  # the integrator signs checkpoints meanwhile, as in production
        deadline = time.monotonic() + seconds
        acknowledged = 0

        async def loop(worker: int) -> None:
            nonlocal acknowledged
            number = 0
            while time.monotonic() < deadline:
                facts = RequestFacts(f"r{worker}-{number}", OFFICER, None, "Q", "hash")
                await audit.append([outcome_draft(facts, event_record(number))])
                acknowledged += 1
                number += 1

        await asyncio.gather(*(loop(w) for w in range(concurrency)))
        await audit.stop()
        return acknowledged

    try:
        return asyncio.run(run())
    finally:
        engine.dispose()


def deployment(database_url: str | None, data_dir: Path) -> tuple[str, str | None]:
    """Returns (database url, PostgreSQL schema to drop afterwards)."""
    schema = None
    url = database_url or f"sqlite:///{data_dir / 'credgate.sqlite'}"
    if database_url and database_url.startswith("postgresql"):
        schema = f"bench_{secrets.token_hex(4)}"
        admin = create_engine(database_url)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = f"{database_url}?options=-csearch_path%3D{schema}"
    (data_dir / "credgate.toml").write_text(f'[gateway]\ndatabase_url = "{url}"\n')
    init_keys(data_dir / "keys")
    engine = create_db_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url, schema


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite)")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url, schema = deployment(args.database_url, data_dir)
        context = multiprocessing.get_context("spawn")
        start_at = time.time() + 3.0  # let every process import and connect first
        jobs = [(str(data_dir), args.concurrency, args.seconds, start_at)] * args.processes
        with context.Pool(args.processes) as pool:
            counts = pool.starmap(_writer, jobs)
        total = sum(counts)
        print(f"database: {url.split('?')[0].split('://')[0]}")
        print(f"writers: {args.processes} processes x {args.concurrency} concurrent requests")
        print(f"acknowledged: {total} events in {args.seconds:.1f} s")
        print(f"throughput: {total / args.seconds:,.0f} events/s")
        _check(url, data_dir, total)
        drop_schema(args.database_url, schema)


def drop_schema(database_url: str | None, schema: str | None) -> None:
    """Drop the PostgreSQL schema a benchmark made, if any."""
    if not (database_url and schema):
        return
    admin = create_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _check(url: str, data_dir: Path, total: int) -> None:
    settings = load_settings(data_dir=data_dir, env={})
    engine = create_db_engine(url)
    try:
        audit = AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))
        audit.integrate_now()
        report = verify_log(audit.store, audit.verifier, audit.verifier.public_key)
        assert report.ok, report.problems[:5]
        assert report.total == total, (report.total, total)
        print(f"verified: {report.valid}/{report.total} entries valid, indices 0..{total - 1}")
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
