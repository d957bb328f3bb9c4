"""The agencies' own latency: credgate's fan-out for the investigation, and nothing else.

What a gateway with zero overhead would see. The spec (:func:`write_spec`) holds
the requests credgate sends the four bench agencies for the demo investigation:
the datasets and fields the query selects (the baseline's own walk of the
selection set, :func:`bench.baseline_app.wanted_in`), less what the officer's
policy denies, lodging narrowed to the policy's ``maxRecordAgeDays`` (both asked
of credgate's ``explainField``), on the authority of the officer's case (``me``,
``myCases``). This module then runs as its own process, pinned like the load
generator, and asks those agencies through the same
:class:`connectors.remote.RemoteConnector` (signed with the baseline's key),
all four at once, one investigation after another on each of ``--concurrency``
workers; an investigation is timed from its first send until its last answer.
No GraphQL, no token, no policy, no audit, no shaping.

Run by ``bench.throughput`` (:func:`measure`)::

    python -m bench.direct_fanout --spec direct.json --concurrency 1 --seconds 10
        [--warmup-seconds 2] [--agency-pids 101,102,103,104]

and prints one JSON line: the investigations, their p50 and p99, its own CPU and
the agencies' per investigation, and the records each dataset answered.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench import stack
from bench.baseline_app import connectors_of, fan_out, fetch_requests, subject_of, wanted_in
from bench.loadgen import LoadResult, percentiles, process_cpu_seconds
from connectors.remote import RemoteConnector
from connectors.sdk import DATASETS, ConnectorError, DatasetQuery, FetchRequest, LegalAuthority
from gateway.plan import Window, view_of

SYSTEM = "agencies (direct fan-out)"
"""Its rows' system in the throughput table."""

_FACTS = "{ me { officerId } myCases { caseNumber court { id } document { type number } } }"
_EXPLAIN = (
    "query Explain($caseNumber: String!, $subject: SubjectInput!, $dataset: String!) {{ {} }}"
)
_ALIAS = (
    "f{}: explainField(caseNumber: $caseNumber, subject: $subject, dataset: $dataset, "
    "field: {}) {{ decision maxRecordAgeDays }}"
)


def _graphql(url: str, token: str, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"query": query, "variables": variables}
    answer = httpx.post(url, json=body, headers=headers, timeout=30)
    answer.raise_for_status()
    document: dict[str, Any] = answer.json()
    assert "errors" not in document, (query, document["errors"])
    data: dict[str, Any] = document["data"]
    return data


def _authority(url: str, token: str, case_number: str) -> LegalAuthority:
    """What credgate tells each agency: the officer's case, court and document."""
    facts = _graphql(url, token, _FACTS, {})
    case = next(c for c in facts["myCases"] if c["caseNumber"] == case_number)
    document = f"{case['document']['type']} {case['document']['number']}"
    return LegalAuthority(case_number, case["court"]["id"], facts["me"]["officerId"], document)


def _query(
    url: str, token: str, variables: Mapping[str, Any], dataset: str, fields: frozenset[str]
) -> DatasetQuery | None:
    """What credgate asks of ``dataset`` (``None``: nothing), decided as it decides."""
    names = sorted(fields)
    aliases = " ".join(_ALIAS.format(i, json.dumps(name)) for i, name in enumerate(names))
    data = _graphql(url, token, _EXPLAIN.format(aliases), {**variables, "dataset": dataset})
    allowed = {
        n: data[f"f{i}"] for i, n in enumerate(names) if data[f"f{i}"]["decision"] != "DENIED"
    }
    if not allowed:
        return None  # credgate does not ask a dataset with no permitted field
    permitted = frozenset(allowed)
    ages = [d["maxRecordAgeDays"] for d in allowed.values() if d["maxRecordAgeDays"] is not None]
    if DATASETS[dataset].time_field is None or not ages:
        return DatasetQuery(permitted)
    # The demo query asks no window of its own: only the policy narrows it.
    today = datetime.datetime.now(datetime.UTC).date()
    window = Window().narrowed(min(ages), today)
    return DatasetQuery(permitted, window.since, window.until)


def write_spec(deployment: stack.Deployment, running: stack.Running, path: Path) -> dict[str, int]:
    """Write the spec of the fan-out to ``path``; the records credgate's answer holds.

    The counts (per catalog dataset) let :func:`measure` check that the direct
    fan-out gets what credgate gets.
    """
    token = stack.officer_token(deployment)
    query: str = deployment.example["query"]
    variables: dict[str, Any] = deployment.example["variables"]
    url = running.credgate_url
    queries = {
        dataset: asked
        for dataset, fields in wanted_in(query, variables).items()
        if (asked := _query(url, token, variables, dataset, fields)) is not None
    }
    given = variables["subject"]
    subject = subject_of(given.get("residentId"), given.get("creditCode"), given.get("name"))
    authority = _authority(url, token, variables["caseNumber"])
    request = FetchRequest("spec", authority, subject, queries)
    config = json.loads(deployment.baseline_config.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**config, "request": request.to_json()}, ensure_ascii=False))
    body = json.dumps(deployment.example, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    found = stack.check_answer(url, body, headers)
    counts = {}
    for dataset in queries:
        value = found[view_of(dataset).field]
        counts[dataset] = len(value) if isinstance(value, list) else int(value is not None)
    return counts


def measure(
    spec: Path,
    concurrency: int,
    seconds: float,
    warmup_seconds: float,
    agency_pids: Sequence[int],
    expected: Mapping[str, int],
) -> tuple[LoadResult, float | None]:
    """Run the fan-out process on the load CPU; its result and the agencies' CPU ms per call.

    Raises:
        AssertionError: the agencies' records differ from credgate's answer.
    """
    command = [sys.executable, "-m", "bench.direct_fanout", "--spec", str(spec)]
    command += ["--concurrency", str(concurrency), "--seconds", f"{seconds:g}"]
    command += ["--warmup-seconds", f"{warmup_seconds:g}"]
    command += ["--agency-pids", ",".join(str(pid) for pid in agency_pids)]
    completed = subprocess.run(
        stack.pinned(stack.LOAD_CPU, command),
        cwd=stack.REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=seconds + warmup_seconds + 60,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"direct fan-out failed:\n{completed.stderr[-2000:]}")
    out = json.loads(completed.stdout.strip().splitlines()[-1])
    assert out["records"] == expected, ("direct fan-out records differ from credgate's", out)
    result = LoadResult(
        out["investigations"],
        out["errors"],
        out["seconds"],
        out["p50_ms"],
        out["p99_ms"],
        out["cpu_ms"],
        "direct",
    )
    return result, out["agency_cpu_ms"]


async def _investigate(connectors: Sequence[RemoteConnector], spec: FetchRequest) -> float:
    """One investigation's fan-out; its milliseconds from first send to last answer."""
    calls = fetch_requests(connectors, spec.datasets, spec.authority, spec.subject)
    started = time.perf_counter()
    await fan_out(calls)
    return (time.perf_counter() - started) * 1000


async def _phase(
    connectors: Sequence[RemoteConnector], spec: FetchRequest, concurrency: int, seconds: float
) -> tuple[list[float], int]:
    """Investigations back to back on ``concurrency`` workers: latencies, failures."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            try:
                latencies.append(await _investigate(connectors, spec))
            except ConnectorError:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    config = json.loads(args.spec.read_text(encoding="utf-8"))
    spec = FetchRequest.from_json(config["request"])
    connectors = connectors_of(config)
    try:
        calls = fetch_requests(connectors, spec.datasets, spec.authority, spec.subject)
        records: dict[str, int] = {}
        for result in await fan_out(calls):
            records.update({d: len(rows) for d, rows in result.records.items()})
        if args.warmup_seconds > 0:
            await _phase(connectors, spec, args.concurrency, args.warmup_seconds)
        cpu, agencies = time.process_time(), process_cpu_seconds(args.agency_pids)
        started = time.monotonic()
        latencies, errors = await _phase(connectors, spec, args.concurrency, args.seconds)
        elapsed = time.monotonic() - started
        cpu, agencies = time.process_time() - cpu, process_cpu_seconds(args.agency_pids) - agencies
    finally:
        for connector in connectors:
            await connector.aclose()
    done = len(latencies)
    p50, p99 = percentiles(latencies)
    return {
        "investigations": done,
        "errors": errors,
        "seconds": elapsed,
        "p50_ms": p50,
        "p99_ms": p99,
        "cpu_ms": cpu * 1000 / done if done else None,
        "agency_cpu_ms": agencies * 1000 / done if done else None,
        "records": records,
    }


def main() -> None:
    """Measure the fan-out of a spec and print the figures as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument(
        "--agency-pids", type=lambda text: [int(p) for p in text.split(",") if p], default=[]
    )
    args = parser.parse_args()
    # uvloop, as under credgate and the baseline (uvicorn picks it when installed).
    print(json.dumps(uvloop.run(_run(args))), flush=True)


if __name__ == "__main__":
    main()
