"""Fan-out over the signed HTTP transport against in-process connectors.

Six agencies (the demo's three banks, tax, civil affairs, public security),
each answering after ``--delay-ms`` (20 ms by default) from canned records.
Remote agencies run as separate processes (``python -m bench.fanout_remote
--serve ...``), so the measured process is only the gateway side: sign, POST
over pooled aiohttp sessions, verify signature and request hash, check records.

Reports, for both transports:
  * concurrency 1: median fan-out latency and its ratio to the slowest agency's
    latency (the delay; target for remote: at most 1.3);
  * concurrency ``--concurrency`` (32): fan-outs per second for ``--seconds``.

    .venv/bin/python -m bench.fanout_remote [--delay-ms 20] [--concurrency 32] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import uvicorn

from connectors.conformance import conformance_request
from connectors.demo import DEMO_AGENCIES
from connectors.remote import RemoteAgency, RemoteConnector
from connectors.sdk import DATASETS, AgencyIdentity, Connector, DatasetQuery, FetchRequest, Subject
from connectors.service import create_service
from connectors.signing import TrustedKeys, generate_key_file, load_private_key, load_public_key
from connectors.testing import DelayedConnector, StaticConnector
from gateway.agencies import RegisteredAgency
from gateway.fanout import fan_out

SUBJECT = Subject.resident("410802199001010010", "张三")
BASE_PORT = 9301


def _record(dataset: str) -> dict[str, object]:
    values = {"int": 2023, "money": "80.00", "date": "2024-01-02"}
    record: dict[str, object] = {}
    for spec in DATASETS[dataset].fields:
        value = spec.enum_values[0] if spec.enum_values else values.get(spec.type, "文本")
        if spec.type == "datetime":
            value = "2024-01-02T10:00:00+08:00"
        head, _, sub = spec.name.partition(".")
        if sub:
            record.setdefault(head, [{}])[0][sub] = value  # type: ignore[index]
        else:
            record[head] = value
    return record


def agency_connector(identity: AgencyIdentity, delay_ms: float) -> Connector:
    """A connector with one canned record per dataset, answering after the delay."""
    datasets = [name for name, spec in DATASETS.items() if spec.agency_kind == identity.kind]
    static = StaticConnector(identity, {SUBJECT.id_number: {d: [_record(d)] for d in datasets}})
    return DelayedConnector(static, delay_ms / 1000)


def request_for(connector: Connector) -> FetchRequest:
    """Every field of every dataset the agency serves."""
    queries = {name: DatasetQuery(DATASETS[name].field_names) for name in connector.datasets}
    return conformance_request(SUBJECT, queries, request_id="bench")


def _serve(args: argparse.Namespace) -> None:
    identity = next(i for i in DEMO_AGENCIES if i.id == args.serve)
    connector = agency_connector(identity, args.delay_ms)
    trust = TrustedKeys([load_public_key(args.gateway_key)])
    app = create_service(connector, load_private_key(args.key), trust)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


@contextlib.contextmanager
def agency_processes(directory: Path, delay_ms: float) -> Iterator[list[RegisteredAgency]]:
    """The six agencies as separate processes, and RemoteConnectors to them."""
    gateway_key, _ = generate_key_file(directory / "gateway.pem")
    processes: list[subprocess.Popen[bytes]] = []
    remotes: list[RegisteredAgency] = []
    try:
        for offset, identity in enumerate(DEMO_AGENCIES):
            _, public = generate_key_file(directory / f"{identity.id}.pem")
            port = BASE_PORT + offset
            command = [sys.executable, "-m", "bench.fanout_remote", "--serve", identity.id]
            command += ["--port", str(port), "--delay-ms", str(delay_ms)]
            command += ["--key", str(directory / f"{identity.id}.pem")]
            command += ["--gateway-key", str(directory / "gateway.pub.pem")]
            processes.append(subprocess.Popen(command))
            agency = RemoteAgency(
                identity,
                f"http://127.0.0.1:{port}",
                TrustedKeys([load_public_key(public)]),
                deadline_s=5,
            )
            remotes.append(RegisteredAgency(RemoteConnector(agency, gateway_key), 5.25))
        _wait_ready(BASE_PORT, len(DEMO_AGENCIES))
        yield remotes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)


def _wait_ready(first_port: int, count: int) -> None:
    deadline = time.monotonic() + 30
    for port in range(first_port, first_port + count):
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


async def measure(
    agencies: Sequence[RegisteredAgency], concurrency: int, seconds: float
) -> tuple[float, float]:
    """Median latency (ms) at concurrency 1, and fan-outs/s at ``concurrency``."""
    calls = [(agency, request_for(agency.connector)) for agency in agencies]
    for _ in range(20):  # warm up pools and caches
        await fan_out(calls)
    latencies = []
    for _ in range(200):
        started = time.perf_counter()
        outcomes = await fan_out(calls)
        latencies.append((time.perf_counter() - started) * 1000)
        assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await fan_out(calls)
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statistics.median(latencies), done / (time.perf_counter() - started)


async def _bench(args: argparse.Namespace) -> None:
    local = [RegisteredAgency(agency_connector(i, args.delay_ms), 5) for i in DEMO_AGENCIES]
    in_p50, in_rps = await measure(local, args.concurrency, args.seconds)
    with (
        tempfile.TemporaryDirectory() as directory,
        agency_processes(Path(directory), args.delay_ms) as remotes,
    ):
        try:
            re_p50, re_rps = await measure(remotes, args.concurrency, args.seconds)
        finally:
            for agency in remotes:
                await agency.connector.aclose()  # type: ignore[attr-defined]
    print(f"six agencies, each {args.delay_ms:g} ms; fan-out of one request to all six")
    header = f"rps (c={args.concurrency})"
    print(f"{'transport':<12}{'p50 ms (c=1)':>14}{'ratio to slowest':>18}{header:>12}")
    for name, p50, rps in (("in-process", in_p50, in_rps), ("remote", re_p50, re_rps)):
        print(f"{name:<12}{p50:>14.2f}{p50 / args.delay_ms:>18.3f}{rps:>12.0f}")
    print(f"remote throughput / in-process: {re_rps / in_rps:.2f}")


def main() -> None:
    """Run the benchmark (or, with --serve, one agency service for it)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--key", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--gateway-key", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args)
    else:
        asyncio.run(_bench(args))


if __name__ == "__main__":
    main()
