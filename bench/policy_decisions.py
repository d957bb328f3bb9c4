"""The cost of Cedar field decisions per investigation, alone and inside a request.

1. Alone: ``CedarFieldPolicy.decide`` over every field of the demo investigation
   (37 fields, so 74 Cedar requests in one batch), without the decision cache
   (every call evaluates) and with it (the officer's repeated requests).
2. Inside the gateway: the demo investigation through the whole app
   (in-process, demo agencies on SQLite, no simulated latency), timing each
   ``decide`` call; the share is policy time over the gateway's own time (the
   request's latency minus its slowest agency's), the median over requests.
   Target: under 5 %.

    .venv/bin/python -m bench.policy_decisions [--requests 200] [--calls 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.fanout import PUBLIC_URL, inprocess_agencies, measure_investigations
from connectors.catalog import DATASETS
from gateway.app import create_app
from gateway.auth.principal import Principal, Role
from gateway.demo import prepare_demo
from gateway.field_policy import AccessContext, FieldDecision, FieldRef
from gateway.policy import DEFAULT_POLICY_DIR, CedarFieldPolicy
from gateway.policy_loader import load_policy_dir
from gateway.services import build_services

OFFICER = Principal(
    subject="officer-wz-001",
    client_id="cg_officer",
    role=Role.OFFICER,
    scopes=frozenset({"investigate"}),
    issuer=PUBLIC_URL,
    token_id="bench",  # noqa: S106 - a token id (jti), not a secret
    court_id="court-wuzhi",
    officer_id="officer-wz-001",
)
FIELDS = [FieldRef(s.agency_kind, s.name, f.name) for s in DATASETS.values() for f in s.fields]


class TimedFieldPolicy:
    """A ``FieldPolicy`` that keeps how long each ``decide`` took."""

    def __init__(self, inner: CedarFieldPolicy) -> None:
        self.inner = inner
        self.policy_set_hash = inner.policy_set_hash
        self.seconds: list[float] = []

    def decide(
        self, principal: Principal, context: AccessContext, fields: Sequence[FieldRef]
    ) -> Mapping[FieldRef, FieldDecision]:
        """Decide through the inner policy, timing it."""
        started = time.perf_counter()
        try:
            return self.inner.decide(principal, context, fields)
        finally:
            self.seconds.append(time.perf_counter() - started)


def alone(calls: int, cache_size: int) -> float:
    """Median seconds per ``decide`` over all 37 fields."""
    policy = CedarFieldPolicy(load_policy_dir(DEFAULT_POLICY_DIR), cache_size=cache_size)
    context = AccessContext(True, True, True, datetime.now(UTC), case_court="court-wuzhi")
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        policy.decide(OFFICER, context, FIELDS)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def in_gateway(data_dir: Path, requests: int, cache_size: int) -> tuple[float, float]:
    """Median policy time per investigation, and its median share of the gateway's own time."""
    setup = prepare_demo(data_dir, 8000)
    document = json.loads((data_dir / "demo.json").read_text(encoding="utf-8"))
    officer = document["clients"]["officer"]
    services = build_services(setup.settings)
    timed = inprocess_agencies(services, 0.0)
    policy = TimedFieldPolicy(
        CedarFieldPolicy(load_policy_dir(DEFAULT_POLICY_DIR), cache_size=cache_size)
    )
    services.field_policy = policy
    app = create_app(setup.settings, services)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL, timeout=60
        ) as http,
    ):
        form = {"grant_type": "client_credentials"}
        auth = (officer["client_id"], officer["client_secret"])
        token = (await http.post("/oauth/token", data=form, auth=auth)).json()["access_token"]
        example = document["investigation_example"]
        await measure_investigations(http, token, example, timed, 10)  # Warm caches and pools.
        policy.seconds.clear()
        latency, slowest = await measure_investigations(http, token, example, timed, requests)
    own = [total - agency for total, agency in zip(latency, slowest, strict=True)]
    # Per-request ratios, then the median: one GC pause on a loaded machine must
    # not decide the figure either way.
    shares = [spent / mine for spent, mine in zip(policy.seconds, own, strict=True)]
    return statistics.median(policy.seconds), statistics.median(shares)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    rows = []
    for label, size in (("no cache", 0), ("cached", 10_000)):
        per_call = alone(args.calls, size)
        rows.append((f"decide, 37 fields, {label}", f"{per_call * 1000:.2f} ms"))
        rows.append((f"decisions/s, {label}", f"{len(FIELDS) / per_call:,.0f}"))
    for label, size in (("no cache", 0), ("cached", 10_000)):
        with tempfile.TemporaryDirectory(prefix="credgate-bench-") as directory:
            median, share = asyncio.run(in_gateway(Path(directory), args.requests, size))
        rows.append((f"policy per investigation, {label}", f"{median * 1000:.2f} ms"))
        rows.append((f"share of gateway's own time, {label}", f"{share:.1%}  (target < 5%)"))
    print(f"\nbench.policy_decisions  calls={args.calls}  requests={args.requests}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
