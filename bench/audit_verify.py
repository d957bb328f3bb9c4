"""Audit verification speed: ``credgate audit verify`` over 100,000 events.

Fills a fresh log with ``--events`` realistic events (batches of 1,000, with a
checkpoint every ``--checkpoint-every`` events, as the integrator would sign
them), then times the full verification through the CLI: every leaf and root
recomputed from the stored events, every checkpoint signature checked, the
uncovered tail's receipts checked. Target: 100,000 events in under 10 s.

Usage:
    .venv/bin/python -m bench.audit_verify [--events 100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

from bench.audit_append import OFFICER, deployment, drop_schema, event_record
from gateway.audit.events import RequestFacts, outcome_draft
from gateway.audit.log import AuditLog
from gateway.cli import main as credgate
from gateway.db import create_db_engine
from gateway.keys import load_keys
from gateway.settings import load_settings

BATCH = 1000


def _fill(data_dir: Path, url: str, events: int, checkpoint_every: int) -> None:
    settings = load_settings(data_dir=data_dir, env={})
    engine = create_db_engine(url)
    audit = AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))
    try:
        for start in range(0, events, BATCH):
            drafts = [
                outcome_draft(RequestFacts(f"r{n}", OFFICER, None, "Q", "hash"), event_record(n))
                for n in range(start, min(start + BATCH, events))
            ]
            audit.append_blocking(drafts)
            if (start + BATCH) % checkpoint_every == 0:
                audit.integrate_now()
    finally:
        engine.dispose()


def main() -> None:
    """Fill the log, verify it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--checkpoint-every", type=int, default=5_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url, schema = deployment(args.database_url, data_dir)
        began = time.perf_counter()
        _fill(data_dir, url, args.events, args.checkpoint_every)
        print(f"filled {args.events} events in {time.perf_counter() - began:.1f} s")
        output = io.StringIO()
        began = time.perf_counter()
        with contextlib.redirect_stdout(output):
            code = credgate(["audit", "verify", "--data-dir", str(data_dir)])
        elapsed = time.perf_counter() - began
        print(output.getvalue().strip().splitlines()[-1])
        print(f"verify: {elapsed:.2f} s ({args.events / elapsed:,.0f} events/s), exit {code}")
        drop_schema(args.database_url, schema)
        assert code == 0


if __name__ == "__main__":
    main()
