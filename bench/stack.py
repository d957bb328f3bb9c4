"""The processes of the throughput benchmark: agencies, credgate and the baseline.

Everything runs on 127.0.0.1 as separate processes, each pinned to a CPU with
``taskset`` when the machine has two or more (the servers measured on CPU 0,
the agencies and the load generator on CPU 1). :class:`Processes` owns every
child it starts and terminates them all when its block ends, exception or not.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from connectors.demo import DEMO_AGENCIES
from connectors.sdk import AgencyIdentity
from connectors.signing import generate_key_file, public_pem
from gateway.demo import prepare_demo
from gateway.keys import load_signing_key

REPO = Path(__file__).resolve().parent.parent
SERVER_CPU = 0
"""The CPU of the measured server (credgate or the baseline)."""
LOAD_CPU = 1
"""The CPU of the load generator, the agencies, the direct fan-out and this driver."""
BENCH_AGENCIES = ("bank-icbc", "tax-jiaozuo", "civil-affairs-jiaozuo", "public-security-jiaozuo")
"""One agency of each kind; the demo respondent has accounts at ICBC."""
BENCH_QUERY = (
    "query Investigate($caseNumber: String!, $subject: SubjectInput!) { "
    "investigation(caseNumber: $caseNumber, subject: $subject) { caseNumber "
    "subject { name residentId creditCode } "
    "bankAccounts { agency { name } bank accountNumber accountType status currency "
    "balance openedOn } "
    "taxRefunds { agency { name } taxYear taxType amount refundAccount refundBank status } "
    "marriageRecords { status registeredOn office spouseName spouseIdNumber } "
    "allowanceRecords { program monthlyAmount startDate status } "
    "household { householdNumber address headName members { name relation idNumber birthDate } } "
    "lodgingRecords { hotel city checkIn checkOut } } }"
)
"""The investigation both systems get: the datasets of the four bench agencies' kinds.

``gateway.demo_cases.INVESTIGATION_QUERY`` asks every demo dataset, among them
agencies the bench does not start (real estate, provident fund, market
regulation) and datasets the baseline does not mirror (vehicles and passports);
the bench keeps the query it was measured with, so runs compare like with like.
"""
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 10.0


def pinning_available() -> bool:
    """Whether servers and load can get a CPU each."""
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def pin_self() -> None:
    """Move this driver (and so wrk, which it starts) to the load CPU."""
    if pinning_available():
        os.sched_setaffinity(0, {LOAD_CPU})


def free_ports(count: int) -> list[int]:
    """``count`` loopback ports nothing listens on (bound together, then released)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def rss_mib(pid: int) -> float:
    """Resident set size of a process, in MiB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass(frozen=True)
class BenchAgency:
    """One agency service: who it is, where it listens, its files."""

    identity: AgencyIdentity
    port: int
    database: Path
    key: Path

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Deployment:
    """The prepared data: credgate's data dir, the agencies, the baseline's config."""

    data_dir: Path
    gateway_port: int  # the first credgate process's (token issuer, public URL)
    baseline_port: int
    agencies: tuple[BenchAgency, ...]
    trusted_keys: tuple[Path, ...]  # gateway public keys the agencies accept
    baseline_config: Path
    officer: tuple[str, str]  # client id and secret
    example: dict[str, Any]  # the investigation query and variables
    more_gateway_ports: tuple[int, ...] = ()  # further `credgate serve` processes
    database_url: str | None = None  # credgate's, when not the data dir's SQLite file


def prepare(directory: Path, database_url: str | None = None, gateways: int = 1) -> Deployment:
    """A seeded credgate data dir whose four agencies are remote, and the baseline's config.

    Args:
        directory: Where everything goes (an empty directory).
        database_url: credgate's database (e.g. a PostgreSQL schema of its own),
            written into the data dir's ``credgate.toml`` so that every credgate
            process and ``credgate audit verify --data-dir`` use it; default the
            data dir's SQLite file.
        gateways: How many ``credgate serve`` processes share that data dir and database.
    """
    count = 2 + len(BENCH_AGENCIES) + gateways - 1
    gateway_port, baseline_port, *ports = free_ports(count)
    more_gateway_ports = tuple(ports[len(BENCH_AGENCIES) :])
    ports = ports[: len(BENCH_AGENCIES)]
    if database_url is not None:
        # prepare_demo keeps the lines of an existing config (it updates public_url only).
        config = directory / "credgate" / "credgate.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f'[gateway]\ndatabase_url = "{database_url}"\n', encoding="utf-8")
    setup = prepare_demo(directory / "credgate", gateway_port)
    data_dir = setup.settings.data_dir
    keys = data_dir / "keys" / "agencies"
    keys.mkdir(parents=True, exist_ok=True)
    gateway_public = keys / "gateway.pub.pem"
    signing = load_signing_key(setup.settings.keys_dir / "gateway-signing.pem")
    gateway_public.write_bytes(public_pem(signing.public_key))
    _, baseline_public = generate_key_file(directory / "baseline.pem")
    identities = {identity.id: identity for identity in DEMO_AGENCIES}
    agencies = []
    for agency_id, port in zip(BENCH_AGENCIES, ports, strict=True):
        generate_key_file(keys / f"{agency_id}.pem")
        database = data_dir / "agencies" / f"{agency_id}.sqlite"
        agencies.append(
            BenchAgency(identities[agency_id], port, database, keys / f"{agency_id}.pem")
        )
    _configure_remote(data_dir, agencies)
    baseline_config = directory / "baseline.json"
    tables = [_agency_json(agency) for agency in agencies]
    document = {"key": str(directory / "baseline.pem"), "agencies": tables}
    baseline_config.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    officer = setup.clients["officer"]
    return Deployment(
        data_dir,
        gateway_port,
        baseline_port,
        tuple(agencies),
        (gateway_public, baseline_public),
        baseline_config,
        (officer["client_id"], officer["client_secret"]),
        {"query": BENCH_QUERY, "variables": setup.extra["investigation_example"]["variables"]},
        more_gateway_ports,
        database_url,
    )


def _agency_json(agency: BenchAgency) -> dict[str, str]:
    identity = agency.identity
    public = agency.key.with_name(agency.key.name.replace(".pem", ".pub.pem"))
    return {
        "id": identity.id,
        "kind": identity.kind,
        "name": identity.name,
        "url": agency.url,
        "public_key": str(public),
    }


def _configure_remote(data_dir: Path, agencies: Sequence[BenchAgency]) -> None:
    """credgate reaches the bench agencies over signed HTTP, and no other agency."""
    config = data_dir / "credgate.toml"
    tables = []
    for agency in agencies:
        public = _agency_json(agency)["public_key"]
        tables.append(f'\n[agencies.{agency.identity.id}]\nurl = "{agency.url}"\n')
        tables.append(f'public_key = "{public}"\n')
    with config.open("a", encoding="utf-8") as handle:
        handle.writelines(tables)
    # Demo agencies with a database and no table would be served in-process.
    wanted = {agency.database.name for agency in agencies}
    for database in (data_dir / "agencies").glob("*.sqlite"):
        if database.name not in wanted:
            database.unlink()


def pinned(cpu: int, command: list[str]) -> list[str]:
    """``command`` run on ``cpu`` (through taskset), when pinning is available."""
    return ["taskset", "-c", str(cpu), *command] if pinning_available() else command


class Processes:
    """Starts children (logging to files) and stops every one of them on exit."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], cpu: int) -> int:
        """Start ``command`` on ``cpu``; its pid (taskset execs, so it is the server's)."""
        log = (self.log_dir / f"{name}.log").open("ab")
        with log:
            process = subprocess.Popen(
                pinned(cpu, command), cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )
        self.children[name] = process
        return process.pid

    def wait_listening(self, name: str, port: int) -> None:
        """Block until ``name`` accepts connections on ``port`` (bounded)."""
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            if self.children[name].poll() is not None:
                log = (self.log_dir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited at start-up:\n{log}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not listen on {port} in {_START_TIMEOUT_S:g} s")
            time.sleep(0.1)

    def stop_all(self) -> None:
        """Terminate every child still running, then kill what does not stop.

        The last started go first: the servers before the agencies they call, so
        requests still in flight do not end in AGENCY_UNAVAILABLE.
        """
        for process in reversed(self.children.values()):
            if process.poll() is None:
                process.terminate()
        for process in self.children.values():
            try:
                process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.children.clear()


@dataclass(frozen=True)
class Running:
    """The pids and URLs of one started stack."""

    credgate_pid: int
    baseline_pid: int
    credgate_url: str
    baseline_url: str
    agency_pids: tuple[int, ...]
    credgate_pids: tuple[int, ...] = ()  # every credgate process, the first included
    credgate_urls: tuple[str, ...] = ()


@contextlib.contextmanager
def running(deployment: Deployment, delay_ms: float, log_dir: Path) -> Iterator[Running]:
    """Agencies answering after ``delay_ms``, credgate and the baseline, for the block."""
    processes = Processes(log_dir)
    try:
        agency_pids = tuple(
            processes.start(
                f"agency-{agency.identity.id}",
                _agency_command(agency, deployment, delay_ms),
                LOAD_CPU,
            )
            for agency in deployment.agencies
        )
        # Every credgate process on the server CPU: "one core for the gateway".
        gateway_ports = (deployment.gateway_port, *deployment.more_gateway_ports)
        credgates = tuple(
            processes.start(_credgate_name(n), _credgate_command(deployment, port), SERVER_CPU)
            for n, port in enumerate(gateway_ports)
        )
        baseline = processes.start("baseline", _baseline_command(deployment), SERVER_CPU)
        for agency in deployment.agencies:
            processes.wait_listening(f"agency-{agency.identity.id}", agency.port)
        for n, port in enumerate(gateway_ports):
            processes.wait_listening(_credgate_name(n), port)
        processes.wait_listening("baseline", deployment.baseline_port)
        urls = tuple(f"http://127.0.0.1:{port}/graphql" for port in gateway_ports)
        yield Running(
            credgates[0],
            baseline,
            urls[0],
            f"http://127.0.0.1:{deployment.baseline_port}/graphql",
            agency_pids,
            credgates,
            urls,
        )
    finally:
        processes.stop_all()


def _credgate_name(number: int) -> str:
    return "credgate" if number == 0 else f"credgate-{number + 1}"


def _credgate_command(deployment: Deployment, port: int) -> list[str]:
    data_dir = str(deployment.data_dir)
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data-dir", data_dir]
    return [*command, "--port", str(port)]


def _baseline_command(deployment: Deployment) -> list[str]:
    config, port = str(deployment.baseline_config), str(deployment.baseline_port)
    return [sys.executable, "-m", "bench.baseline_app", "--config", config, "--port", port]


def _agency_command(agency: BenchAgency, deployment: Deployment, delay_ms: float) -> list[str]:
    identity = agency.identity
    command = [sys.executable, "-m", "gateway.cli", "connector", "serve", identity.kind]
    command += ["--agency-id", identity.id, "--agency-name", identity.name]
    command += ["--database-url", f"sqlite:///file:{agency.database}?mode=ro&uri=true"]
    command += ["--key", str(agency.key), "--port", str(agency.port)]
    command += ["--simulated-latency-ms", f"{delay_ms:g}"]
    for key in deployment.trusted_keys:
        command += ["--gateway-key", str(key)]
    return command


def officer_token(deployment: Deployment) -> str:
    """A fresh access token of the demo officer (lifetime 15 minutes)."""
    url = f"http://127.0.0.1:{deployment.gateway_port}/oauth/token"
    answer = httpx.post(
        url, data={"grant_type": "client_credentials"}, auth=deployment.officer, timeout=30
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def check_answer(url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """POST the investigation once; fail unless it is a 200 with data from every agency."""
    answer = httpx.post(url, content=body, headers=headers, timeout=30)
    assert answer.status_code == 200, (url, answer.status_code, answer.text[:500])
    document: dict[str, Any] = answer.json()
    assert "errors" not in document, (url, document.get("errors"))
    found: dict[str, Any] = document["data"]["investigation"]
    for name in ("bankAccounts", "taxRefunds", "marriageRecords", "lodgingRecords"):
        assert found[name], (url, f"{name} is empty: {found}")
    assert found["household"], (url, found)
    assert found["household"]["members"], (url, found)
    return found
