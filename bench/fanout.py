"""An investigation across the four agency kinds, through the whole gateway.

The real app (token check, GraphQL, legal authority, Cedar policy, fan-out,
shaping, the audit log's fail-closed appends) is driven in-process over httpx's
ASGITransport with the demo's data: six agencies (three banks, tax, civil
affairs, public security) on their own SQLite files, each answering after a
simulated latency (``--delay-ms``, DelayedConnector).

Reports:
  * concurrency 1: median gateway latency, median latency of the slowest agency
    of each request (its delay plus its own database read), and their ratio
    (target: at most 1.2);
  * concurrency ``--concurrency``: investigations per second for ``--seconds``.

    .venv/bin/python -m bench.fanout [--delay-ms 20] [--requests 200]
        [--concurrency 16] [--seconds 5] [--transport inprocess]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from connectors.sdk import Connector, FetchRequest, FetchResult
from connectors.testing import ConnectorWrapper, DelayedConnector
from gateway.agencies import AgencyRegistry, RegisteredAgency
from gateway.app import create_app
from gateway.demo import prepare_demo
from gateway.services import Services, build_services

PUBLIC_URL = "http://127.0.0.1:8000"


class TimedConnector(ConnectorWrapper):
    """Keeps the latency of every fetch, so each request's slowest agency is known."""

    def __init__(self, inner: Connector) -> None:
        super().__init__(inner)
        self.latencies: list[float] = []

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Ask the inner connector and record how long it took."""
        started = time.perf_counter()
        try:
            return await self.inner.fetch(request)
        finally:
            self.latencies.append(time.perf_counter() - started)


def inprocess_agencies(services: Services, delay_s: float) -> list[TimedConnector]:
    """The demo's in-process SQLite connectors, each behind a simulated latency."""
    timed = [TimedConnector(DelayedConnector(a.connector, delay_s)) for a in services.agencies]
    services.agencies = AgencyRegistry(RegisteredAgency(t) for t in timed)
    return timed


# How the gateway reaches the agencies; other transports (remote connectors over
# signed HTTP) add an entry here.
TRANSPORTS: dict[str, Callable[[Services, float], list[TimedConnector]]] = {
    "inprocess": inprocess_agencies,
}


async def _investigate(http: httpx.AsyncClient, token: str, example: dict[str, Any]) -> None:
    response = await http.post(
        "/graphql", json=example, headers={"Authorization": f"Bearer {token}"}
    )
    body = response.json()
    if response.status_code != 200 or "errors" in body:
        raise SystemExit(f"investigation failed: {response.status_code} {body}")


async def measure_investigations(
    http: httpx.AsyncClient,
    token: str,
    example: dict[str, Any],
    timed: list[TimedConnector],
    n: int,
) -> tuple[list[float], list[float]]:
    """``n`` investigations one after another: gateway latencies and each one's slowest agency."""
    gateway, slowest = [], []
    for _ in range(n):
        for t in timed:
            t.latencies.clear()
        started = time.perf_counter()
        await _investigate(http, token, example)
        gateway.append(time.perf_counter() - started)
        slowest.append(max(t.latencies[-1] for t in timed))
    return gateway, slowest


async def _throughput(
    http: httpx.AsyncClient, token: str, example: dict[str, Any], concurrency: int, seconds: float
) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await _investigate(http, token, example)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


async def run(args: argparse.Namespace, data_dir: Path) -> None:
    """Prepare the demo under ``data_dir``, then measure and print the table."""
    setup = prepare_demo(data_dir, 8000)
    document = json.loads((data_dir / "demo.json").read_text(encoding="utf-8"))
    officer = document["clients"]["officer"]
    example = document["investigation_example"]
    services = build_services(setup.settings)
    timed = TRANSPORTS[args.transport](services, args.delay_ms / 1000)
    app = create_app(setup.settings, services)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL, timeout=60) as http,
    ):
        answer = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(officer["client_id"], officer["client_secret"]),
        )
        token = answer.json()["access_token"]
        await measure_investigations(http, token, example, timed, 10)  # Warm caches and pools.
        gateway, slowest = await measure_investigations(http, token, example, timed, args.requests)
        rate = await _throughput(http, token, example, args.concurrency, args.seconds)
    ratios = [g / s for g, s in zip(gateway, slowest, strict=True)]
    rows = [
        ("agencies asked per investigation", f"{len(timed)}"),
        ("simulated agency latency", f"{args.delay_ms:.0f} ms"),
        ("slowest agency, median (c=1)", f"{statistics.median(slowest) * 1000:.1f} ms"),
        ("gateway latency, median (c=1)", f"{statistics.median(gateway) * 1000:.1f} ms"),
        ("gateway latency, p95 (c=1)", f"{_p95(gateway) * 1000:.1f} ms"),
        ("gateway / slowest agency, median", f"{statistics.median(ratios):.2f}  (target <= 1.2)"),
        (f"throughput (c={args.concurrency})", f"{rate:.0f} investigations/s"),
    ]
    print(f"\nbench.fanout  transport={args.transport}  requests={args.requests}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    """Parse arguments and run in a temporary data directory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), default="inprocess")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credgate-bench-") as directory:
        asyncio.run(run(args, Path(directory)))


if __name__ == "__main__":
    main()
