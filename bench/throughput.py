"""credgate against a plain strawberry baseline, side by side, from one command.

Starts on this machine, as separate processes on 127.0.0.1: four connector
services, one per agency kind (bank-icbc, tax-jiaozuo, civil-affairs-jiaozuo,
public-security-jiaozuo; ``credgate connector serve --simulated-latency-ms``);
credgate (``credgate serve``, uvicorn, one worker) on a seeded demo data dir that
reaches those agencies over signed HTTP; and the baseline (bench.baseline_app),
which calls the same services through the same RemoteConnector with no auth, no
policy and no audit. Both get the demo's investigation query, driven by wrk (or
an asyncio client without it) at each concurrency for ``--seconds``, agencies
answering after each ``--delays`` ms. A third row, the agencies measured directly
(bench.direct_fanout: credgate's four requests for that query, sent at once with
no server in between), is what a gateway with zero overhead would see. The
servers run on CPU 0, the agencies, wrk, the direct fan-out and this driver on
CPU 1 (taskset), when there are two CPUs.

Prints one table (requests/s, p50, p99, server CPU per request from /proc,
credgate's ratio to the baseline, both systems' p50 over the agencies'), a soak
of credgate at concurrency 16 with RSS samples, a py-spy profile of credgate's
CPU per request, and the issue's targets.

credgate's database is the data dir's SQLite file, or with ``--database-url
postgresql+psycopg://...`` a fresh PostgreSQL schema, dropped at the end;
``--gateways 2`` serves credgate from two ``credgate serve`` processes on that
database (both on CPU 0), loaded round-robin. After the run ``credgate audit
verify`` must find every event of the log valid (no index missing across the
processes), or the bench fails.

    .venv/bin/python -m bench.throughput [--seconds 10] [--concurrency 1,16,64]
        [--delays 0,20] [--soak-seconds 300] [--profile-seconds 15] [--quick]
        [--database-url URL] [--gateways N]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import json
import math
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench import direct_fanout, profile_report, stack
from bench.loadgen import LoadResult, process_cpu_seconds, run_load

ERROR_MARKER = b'"errors"'
"""A GraphQL error comes with status 200: responses holding this key are counted."""
SOAK_CONCURRENCY = 16
PROFILE_CONCURRENCY = 16
PROFILE_RATE = 200  # py-spy samples per second


@dataclass(frozen=True)
class Row:
    """One measured (system, agency delay, concurrency)."""

    system: str
    delay_ms: float
    concurrency: int
    result: LoadResult
    agency_cpu_ms: float | None = None  # the four agencies together, per request


@dataclass
class Report:
    """Everything one run measured."""

    started: str
    machine: str
    pinning: str
    rows: list[Row] = field(default_factory=list)
    soak: list[tuple[float, float, float]] = field(default_factory=list)  # s, RSS MiB, rps
    profile: str = ""
    load_before: tuple[float, ...] = ()
    load_after: tuple[float, ...] = ()
    database: str = "SQLite"
    gateways: int = 1
    audit: dict[str, Any] = field(default_factory=dict)  # `credgate audit verify --json`

    def find(self, system: str, delay_ms: float, concurrency: int) -> LoadResult | None:
        """The result of one cell, if it was measured."""
        for row in self.rows:
            if (row.system, row.delay_ms, row.concurrency) == (system, delay_ms, concurrency):
                return row.result
        return None


@dataclass(frozen=True)
class Target:
    """A system under load: where to send, what to send, whose CPU to count."""

    name: str
    urls: tuple[str, ...]  # one per process serving it, loaded round-robin
    pids: tuple[int, ...]  # whose CPU is counted
    body: bytes
    headers: dict[str, str]


def _targets(deployment: stack.Deployment, running: stack.Running) -> list[Target]:
    """Both systems, credgate with a fresh token; each checked to answer with data."""
    body = json.dumps(deployment.example, ensure_ascii=False).encode()
    plain = {"Content-Type": "application/json"}
    bearer = {**plain, "Authorization": f"Bearer {stack.officer_token(deployment)}"}
    targets = [
        Target("credgate", running.credgate_urls, running.credgate_pids, body, bearer),
        Target("baseline", (running.baseline_url,), (running.baseline_pid,), body, plain),
    ]
    for target in targets:
        for url in target.urls:
            stack.check_answer(url, target.body, target.headers)
    return targets


def _load(target: Target, concurrency: int, seconds: float) -> LoadResult:
    return run_load(
        target.urls,
        target.body,
        target.headers,
        concurrency=concurrency,
        duration_s=seconds,
        server_pids=target.pids,
        marker=ERROR_MARKER,
    )


def _measure(
    target: Target, concurrency: int, args: argparse.Namespace, agencies: tuple[int, ...]
) -> tuple[LoadResult, float | None]:
    """Warm up at this concurrency, then measure; the warm-up is not counted."""
    if args.warmup_seconds > 0:
        _load(target, concurrency, args.warmup_seconds)
    before = process_cpu_seconds(agencies)
    result = _load(target, concurrency, args.seconds)
    spent = process_cpu_seconds(agencies) - before
    agency_cpu = spent * 1000 / result.requests if result.requests else None
    _progress(target.name, concurrency, result, agency_cpu)
    return result, agency_cpu


def _progress(name: str, concurrency: int, result: LoadResult, agency_cpu: float | None) -> None:
    print(
        f"  {name:<9} c={concurrency:<3} {result.rps:8.1f} req/s  "
        f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms  "
        f"cpu {result.cpu_ms_per_request or 0:5.2f} ms/req  "
        f"agencies {agency_cpu or 0:5.2f} ms/req  errors {result.errors + result.marked}",
        flush=True,
    )


def _soak(
    deployment: stack.Deployment, running: stack.Running, seconds: float, report: Report
) -> None:
    """credgate at concurrency 16 for ``seconds``, RSS sampled between segments."""
    segments = max(10, math.ceil(seconds / 60))
    started = time.monotonic()
    report.soak.append((0.0, stack.rss_mib(running.credgate_pid), 0.0))
    for _ in range(segments):
        credgate = _targets(deployment, running)[0]  # a fresh token per segment
        result = _load(credgate, SOAK_CONCURRENCY, seconds / segments)
        assert result.errors + result.marked == 0, f"soak errors: {result}"
        sample = (time.monotonic() - started, stack.rss_mib(running.credgate_pid), result.rps)
        report.soak.append(sample)
        print(f"  soak t={sample[0]:6.0f} s  RSS {sample[1]:7.1f} MiB  {sample[2]:7.1f} req/s")


def _profile(pid: int, target: Target, seconds: float, raw: Path) -> str:
    """Sample one server (pid) with py-spy while it serves at concurrency 16."""
    if profile_report.py_spy() is None:
        return "profile skipped: py-spy is not installed (.venv/bin/pip install py-spy)"
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        load = pool.submit(_load, target, PROFILE_CONCURRENCY, seconds + 2)
        time.sleep(1)  # let the load reach steady state before sampling
        profile_report.record(pid, seconds, raw, PROFILE_RATE)
        result = load.result()
    requests = round(result.rps * seconds)
    profile = profile_report.summarize(raw, requests, PROFILE_RATE)
    header = (
        f"{target.name} at c={PROFILE_CONCURRENCY}, {result.rps:.0f} req/s, "
        f"/proc CPU {result.cpu_ms_per_request or 0:.2f} ms/req; py-spy {seconds:g} s "
        f"at {PROFILE_RATE} Hz, ~{requests} requests"
    )
    return header + "\n" + profile_report.report(profile)


def _run_delay(
    deployment: stack.Deployment,
    delay_ms: float,
    args: argparse.Namespace,
    work: Path,
    report: Report,
) -> None:
    print(f"\nagencies answering after {delay_ms:g} ms", flush=True)
    with stack.running(deployment, delay_ms, work / "logs") as running:
        spec = work / f"direct-fanout-{delay_ms:g}ms.json"
        expected = direct_fanout.write_spec(deployment, running, spec)
        for concurrency in args.concurrency:
            for target in _targets(deployment, running):  # fresh token per phase
                result, agency_cpu = _measure(target, concurrency, args, running.agency_pids)
                report.rows.append(Row(target.name, delay_ms, concurrency, result, agency_cpu))
            result, agency_cpu = direct_fanout.measure(
                spec,
                concurrency,
                args.seconds,
                args.warmup_seconds,
                running.agency_pids,
                expected,
            )
            _progress("agencies", concurrency, result, agency_cpu)
            row = Row(direct_fanout.SYSTEM, delay_ms, concurrency, result, agency_cpu)
            report.rows.append(row)
        if delay_ms != min(args.delays):
            return
        if args.profile_seconds > 0:
            print(f"\nprofiling credgate and the baseline for {args.profile_seconds:g} s each")
            credgate, baseline = _targets(deployment, running)
            raw = work / "credgate-profile.txt"
            report.profile = _profile(running.credgate_pid, credgate, args.profile_seconds, raw)
            raw = work / "baseline-profile.txt"
            profile = _profile(running.baseline_pid, baseline, args.profile_seconds, raw)
            report.profile += "\n\n" + profile
        if args.soak_seconds > 0:
            print(f"\nsoak: credgate at c={SOAK_CONCURRENCY} for {args.soak_seconds:g} s")
            _soak(deployment, running, args.soak_seconds, report)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator else "-"


def table(report: Report) -> str:
    """The results as a Markdown table (credgate's rows carry the ratios to the baseline).

    The direct fan-out's CPU ms/req is its own client's, per investigation.
    """
    lines = [
        "| system | agencies | conc. | req/s | p50 ms | p99 ms | CPU ms/req "
        "| agencies' CPU ms/req | errors | rps ÷ baseline | p50 ÷ baseline "
        "| CPU ÷ baseline | p50 ÷ agencies |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report.rows:
        r = row.result
        ratios = ["", "", "", ""]
        base = report.find("baseline", row.delay_ms, row.concurrency)
        if row.system == "credgate" and base is not None:
            ratios[0] = _ratio(r.rps, base.rps)
            ratios[1] = _ratio(r.p50_ms, base.p50_ms)
            ratios[2] = _ratio(r.cpu_ms_per_request or 0, base.cpu_ms_per_request or 0)
        direct = report.find(direct_fanout.SYSTEM, row.delay_ms, row.concurrency)
        if row.system in ("credgate", "baseline") and direct is not None:
            ratios[3] = _ratio(r.p50_ms, direct.p50_ms)
        lines.append(
            f"| {row.system} | {row.delay_ms:g} ms | {row.concurrency} | {r.rps:.0f} "
            f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} | {_ms(r.cpu_ms_per_request)} "
            f"| {_ms(row.agency_cpu_ms)} | {r.errors + r.marked} | {' | '.join(ratios)} |"
        )
    return "\n".join(lines)


def targets(report: Report) -> list[str]:
    """The issue's targets that this run measured, each met or missed."""
    checks: list[tuple[str, bool]] = []
    credgate, base = report.find("credgate", 0, 16), report.find("baseline", 0, 16)
    if credgate and base:
        ratio = credgate.rps / base.rps
        checks.append((f"c=16, 0 ms: credgate rps / baseline = {ratio:.2f} (>= 0.6)", ratio >= 0.6))
        if credgate.cpu_ms_per_request and base.cpu_ms_per_request:
            # Issue 14: the gateway's CPU per investigation beside the plain peer's.
            cpu = credgate.cpu_ms_per_request / base.cpu_ms_per_request
            text = (
                f"c=16, 0 ms: credgate CPU {credgate.cpu_ms_per_request:.2f} ms / baseline "
                f"{base.cpu_ms_per_request:.2f} ms per request = {cpu:.2f} (<= 1.5, issue 14)"
            )
            checks.append((text, cpu <= 1.5))
    slow, agencies = report.find("credgate", 20, 1), report.find(direct_fanout.SYSTEM, 20, 1)
    if slow and agencies and agencies.p50_ms:
        # The agencies take well over their nominal 20 ms here (see bench/README.md):
        # the target is measured against what they actually take.
        ratio = slow.p50_ms / agencies.p50_ms
        checks.append(
            (
                f"c=1, 20 ms: credgate p50 {slow.p50_ms:.2f} ms / agencies' p50 "
                f"{agencies.p50_ms:.2f} ms = {ratio:.2f} (<= 1.2); "
                f"for information {slow.p50_ms / 20:.2f} x the nominal 20 ms",
                ratio <= 1.2,
            )
        )
        checks.append(
            (
                f"c=1, 20 ms: credgate p50 / agencies' p50 = {ratio:.2f} (<= 1.15, issue 14)",
                ratio <= 1.15,
            )
        )
    for delay in sorted({row.delay_ms for row in report.rows}):
        wide = report.find("credgate", delay, 64)
        if wide:
            ratio = wide.p99_ms / wide.p50_ms
            checks.append(
                (f"c=64, {delay:g} ms: credgate p99 / p50 = {ratio:.2f} (<= 4)", ratio <= 4)
            )
    if len(report.soak) >= 3:
        checks.append(_flat(report.soak))
    return [f"  [{'met' if ok else 'MISSED'}] {text}" for text, ok in checks]


def _flat(soak: list[tuple[float, float, float]]) -> tuple[str, bool]:
    """RSS flat: over the second half of the soak (caches warm), it grows at most 2 %."""
    first, last = soak[0][1], soak[-1][1]
    half = next(s for s in soak[1:] if s[0] >= soak[-1][0] / 2)
    growth = (last - half[1]) / half[1]
    text = (
        f"soak: RSS {first:.1f} MiB at start, {half[1]:.1f} at {half[0]:.0f} s, "
        f"{last:.1f} at end ({growth:+.1%} over the second half; flat: <= +2 %)"
    )
    return text, growth <= 0.02


def _print(report: Report) -> None:
    print(f"\nbench.throughput  {report.started}  {report.machine}")
    print(f"pinning: {report.pinning}")
    print(f"credgate: {report.gateways} process(es) on {report.database}")
    print(f"load average before {report.load_before}, after {report.load_after}\n")
    print(table(report))
    if report.soak:
        samples = ", ".join(f"{t:.0f} s: {rss:.1f}" for t, rss, _ in report.soak)
        print(f"\nsoak RSS (MiB) of credgate at c={SOAK_CONCURRENCY}: {samples}")
    if report.profile:
        print(f"\n{report.profile}")
    if report.audit:
        audit = report.audit
        print(
            f"\naudit verify after the run: {audit['valid']}/{audit['entries']} entries valid, "
            f"{audit['checkpoints']} checkpoints, {len(audit['problems'])} problems"
        )
    print("\ntargets:")
    print("\n".join(targets(report)) or "  (none measured with these options)")


def _machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def _pinning() -> str:
    if not stack.pinning_available():
        return "none (fewer than two CPUs, or no taskset): every process shares the CPUs"
    return (
        f"credgate and baseline on CPU {stack.SERVER_CPU} (taskset, one at a time under load); "
        f"agencies, wrk, the direct fan-out and this driver on CPU {stack.LOAD_CPU}"
    )


def _numbers(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``--quick`` shortens every phase."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--warmup-seconds", type=float, default=2.0, help="before each")
    parser.add_argument("--concurrency", type=_numbers, default=[1, 16, 64])
    parser.add_argument("--delays", type=_numbers, default=[0, 20], help="agency latency, ms")
    parser.add_argument("--soak-seconds", type=float, default=None, help="300 (0: none)")
    parser.add_argument("--profile-seconds", type=float, default=None, help="15 (0: none)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 s phases, 1 s warm-ups, 30 s soak, 5 s profile (unless given)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--keep", type=Path, default=None, help="work dir to keep (logs, data)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server for credgate (a fresh schema, dropped after); default SQLite",
    )
    parser.add_argument("--gateways", type=int, default=1, help="credgate processes (>= 1)")
    args = parser.parse_args(argv)
    if args.gateways < 1:
        parser.error("--gateways must be at least 1")
    args.concurrency = [int(c) for c in args.concurrency]
    soak, profile = (30.0, 5.0) if args.quick else (300.0, 15.0)
    # An explicit --soak-seconds or --profile-seconds wins over --quick (0 skips it).
    args.soak_seconds = soak if args.soak_seconds is None else args.soak_seconds
    args.profile_seconds = profile if args.profile_seconds is None else args.profile_seconds
    if args.quick:
        args.seconds, args.warmup_seconds = 3.0, 1.0
    return args


@contextlib.contextmanager
def _database(server_url: str | None) -> Iterator[str | None]:
    """credgate's database URL for this run: a fresh PostgreSQL schema, dropped after."""
    if server_url is None:
        yield None
        return
    schema = f"bench_throughput_{secrets.token_hex(4)}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in server_url else "?"
        try:
            yield f"{server_url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def verify_audit(deployment: stack.Deployment) -> dict[str, Any]:
    """``credgate audit verify --json`` on credgate's data dir (and so its database).

    Raises:
        RuntimeError: the log does not verify, has an invalid or missing entry
            (a gap in the indices is reported as missing), or is empty.
    """
    command = [sys.executable, "-m", "gateway.cli", "audit", "verify", "--json"]
    command += ["--data-dir", str(deployment.data_dir)]
    completed = subprocess.run(
        command, cwd=stack.REPO, capture_output=True, text=True, timeout=600, check=False
    )
    try:
        document: dict[str, Any] = json.loads(completed.stdout)
    except ValueError:
        raise RuntimeError(f"audit verify printed no report:\n{completed.stderr[-2000:]}") from None
    whole = document["ok"] and document["valid"] == document["entries"] > 0
    if completed.returncode != 0 or not whole:
        problems = json.dumps(document.get("problems", [])[:10], ensure_ascii=False)
        raise RuntimeError(
            f"audit verify: {document.get('valid')}/{document.get('entries')} valid, "
            f"exit {completed.returncode}: {problems}"
        )
    return document


def run(args: argparse.Namespace, work: Path) -> Report:
    """Prepare, measure every delay, verify the audit log, and return the report."""
    stack.pin_self()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    report = Report(started, _machine(), _pinning(), load_before=os.getloadavg())
    report.gateways = args.gateways
    with _database(args.database_url) as database_url:
        if database_url is not None:
            report.database = f"PostgreSQL ({database_url.rsplit('%3D', 1)[-1]}, dropped after)"
        deployment = stack.prepare(work, database_url, args.gateways)
        for delay_ms in args.delays:
            _run_delay(deployment, delay_ms, args, work, report)
        report.load_after = os.getloadavg()
        print("\naudit verify (every credgate process stopped)", flush=True)
        report.audit = verify_audit(deployment)
    return report


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    args = parse_args(argv)
    if args.keep is not None:
        report = run(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="credgate-throughput-") as directory:
            report = run(args, Path(directory))
    _print(report)
    if args.json is not None:
        document: dict[str, Any] = asdict(report)
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False), "utf-8")


if __name__ == "__main__":
    main()
