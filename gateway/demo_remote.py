"""``credgate demo --remote``: the nine demo agencies as separate connector services.

Each demo agency runs ``credgate connector serve`` in its own process on a
loopback port, over its own SQLite file (``DATA_DIR/agencies/<id>.sqlite``) and
with its own key (``DATA_DIR/keys/agencies/<id>.pem``); the gateway reaches
them over signed HTTP as it would reach real agencies. Stopping one leaves the
others answering; all are terminated when the demo stops, however it stops
(Ctrl+C, SIGTERM, the gateway failing to start), and the demo refuses to
report ready, naming the agency, when a connector cannot start (e.g. its
port is taken).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.demo import DEMO_AGENCIES
from connectors.registry import takes_measures
from connectors.sdk import AgencyIdentity
from connectors.signing import generate_key_file, public_pem
from gateway.agencies import DEFAULT_DEADLINE_S
from gateway.errors import ConfigError
from gateway.keys import load_signing_key
from gateway.settings import Settings

__all__ = ["DemoConnector", "remote_demo_agencies"]

_READY_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class DemoConnector:
    """One demo agency's connector process."""

    identity: AgencyIdentity
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """Where the gateway reaches it."""
        return f"http://127.0.0.1:{self.port}"


def _agency_key(directory: Path, agency_id: str) -> Path:
    """The agency's public key file, creating the pair on first use."""
    private = directory / f"{agency_id}.pem"
    if not private.exists():
        generate_key_file(private)
    return directory / f"{agency_id}.pub.pem"


def _start(
    identity: AgencyIdentity, port: int, settings: Settings, gateway_key: Path
) -> DemoConnector:
    database = settings.data_dir / "agencies" / f"{identity.id}.sqlite"
    if not database.is_file():
        raise ConfigError(database, "demo agency database missing; the demo seeding writes it")
    command = [
        sys.executable,
        "-m",
        "gateway.cli",
        "connector",
        "serve",
        identity.kind,
        "--agency-id",
        identity.id,
        "--agency-name",
        identity.name,
        "--database-url",
        f"sqlite:///file:{database.resolve()}?mode=ro&uri=true",
        *_measures_option(identity, database),
        "--key",
        str(settings.data_dir / "keys" / "agencies" / f"{identity.id}.pem"),
        "--gateway-key",
        str(gateway_key),
        "--port",
        str(port),
    ]
    # A session (and process group) of its own: a Ctrl+C at the terminal reaches the
    # demo alone, which then stops every connector in order (``_stop``).
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        command, stdout=subprocess.DEVNULL, start_new_session=True
    )
    return DemoConnector(identity, port, process)


def _check_port_free(identity: AgencyIdentity, port: int) -> None:
    """Refuse a port something already listens on (a stale connector would answer
    /v1/health in place of ours, and the demo would report ready wrongly)."""
    with socket.socket() as probe:
        # As uvicorn binds: a port whose last connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ConfigError(
                identity.id,
                f"connector port {port} on 127.0.0.1 is in use; stop what holds it or "
                "choose other ports with --agency-port",
            ) from None


def _measures_option(identity: AgencyIdentity, database: Path) -> list[str]:
    """An agency taking measures keeps its ledger beside its (read-only) data, as in-process."""
    if not takes_measures(identity.kind):
        return []
    return ["--measures-url", f"sqlite:///{database.with_suffix('.measures.sqlite').resolve()}"]


def _wait_ready(connectors: list[DemoConnector]) -> None:
    """Block until every connector answers /v1/health (bounded)."""
    deadline = time.monotonic() + _READY_TIMEOUT_S
    pending = list(connectors)
    while pending:
        connector = pending[0]
        if connector.process.poll() is not None:
            raise ConfigError(
                connector.identity.id,
                f"connector process exited at start-up (status {connector.process.returncode}); "
                "its error is above",
            )
        try:
            with urllib.request.urlopen(f"{connector.url}/v1/health", timeout=1):  # noqa: S310
                pending.pop(0)
                continue
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise ConfigError(connector.identity.id, "connector did not start in time")
        time.sleep(0.1)


def _signal_group(connector: DemoConnector, signum: int) -> None:
    # The whole group: the connector and anything it started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(connector.process.pid, signum)


def _stop(connectors: list[DemoConnector]) -> None:
    """Terminate every connector, then kill those still running after a grace period."""
    for connector in connectors:
        if connector.process.poll() is None:
            _signal_group(connector, signal.SIGTERM)
    for connector in connectors:
        try:
            connector.process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(connector, signal.SIGKILL)
            connector.process.wait()


@contextlib.contextmanager
def remote_demo_agencies(
    settings: Settings, first_port: int = 9101
) -> Iterator[tuple[Settings, list[DemoConnector]]]:
    """Start the demo connectors; yield settings whose agencies point at them.

    The settings gain one ``[agencies.<id>]`` table per demo agency (URL and
    public key); the config file on disk is left as it is.
    """
    keys = settings.data_dir / "keys" / "agencies"
    keys.mkdir(parents=True, exist_ok=True)
    gateway_key = keys / "gateway.pub.pem"
    gateway_key.write_bytes(
        public_pem(load_signing_key(settings.keys_dir / "gateway-signing.pem").public_key)
    )
    tables: dict[str, Any] = dict(settings.section("agencies"))
    connectors: list[DemoConnector] = []
    # Also at interpreter exit: a SystemExit raised outside this block (or a
    # signal turned into one) must not leave connectors holding their ports.
    atexit.register(_stop, connectors)
    try:
        for offset, identity in enumerate(DEMO_AGENCIES):
            _check_port_free(identity, first_port + offset)
        for offset, identity in enumerate(DEMO_AGENCIES):
            public = _agency_key(keys, identity.id)
            connector = _start(identity, first_port + offset, settings, gateway_key)
            connectors.append(connector)
            configured = dict(tables.get(identity.id, {}))
            configured.setdefault("deadline_s", DEFAULT_DEADLINE_S)
            tables[identity.id] = {**configured, "url": connector.url, "public_key": str(public)}
        _wait_ready(connectors)
        sections = {**settings.sections, "agencies": tables}
        yield dataclasses.replace(settings, sections=sections), connectors
    finally:
        _stop(connectors)
        atexit.unregister(_stop)
