"""``credgate demo --remote`` as a process: its connectors stop with it, and a connector
that cannot start stops the demo with the agency's name instead of a false "ready"."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.demo import DEMO_AGENCIES
from tests.connectors.servers import free_port
from tests.test_demo_remote import _free_run

READY_TIMEOUT_S = 180.0  # seeding the demo and six processes, on a loaded machine
STOP_TIMEOUT_S = 30.0

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


class DemoProcess:
    """A ``credgate demo --remote`` subprocess whose output is read line by line."""

    def __init__(self, data_dir: Path, port: int, agency_port: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "demo",
                "--remote",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
                "--agency-port",
                str(agency_port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: str) -> bool:
        """Whether a line matching ``pattern`` comes before the output ends (bounded)."""
        while True:
            line = self.lines.get(timeout=READY_TIMEOUT_S)
            if line is None:
                return False
            self.seen.append(line)
            if re.search(pattern, line):
                return True

    def output(self) -> str:
        """Everything printed, once the process has ended."""
        self.process.wait(STOP_TIMEOUT_S)
        try:
            while (line := self.lines.get(timeout=STOP_TIMEOUT_S)) is not None:
                self.seen.append(line)
        except queue.Empty:
            # The demo has ended but its output has not: an orphan still holds it.
            pytest.fail("the demo exited, but a process it started still runs")
        return "".join(self.seen)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def demo_ports() -> tuple[int, int]:
    return free_port(), _free_run(len(DEMO_AGENCIES))


@pytest.fixture
def started(tmp_path: Path, demo_ports: tuple[int, int]) -> Iterator[DemoProcess]:
    demo = DemoProcess(tmp_path / "demo", *demo_ports)
    try:
        yield demo
    finally:
        demo.kill()


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        # Free means nothing listens: connections of the run may linger in TIME_WAIT.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it holds no port, but say what it is.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_demo_stops_every_connector(
    started: DemoProcess, demo_ports: tuple[int, int], stop: signal.Signals
) -> None:
    assert started.wait_for(r"kill one pid"), "".join(started.seen)
    pids = [int(m) for m in re.findall(r"connector .* pid (\d+)", "".join(started.seen))]
    assert len(pids) == len(DEMO_AGENCIES)
    first = demo_ports[1]
    assert not _port_free(first)  # the connectors hold their ports while the demo runs

    started.process.send_signal(stop)
    started.output()

    assert started.process.returncode != 0 or stop is signal.SIGINT
    assert [pid for pid in pids if _alive(pid)] == []
    assert all(_port_free(port) for port in range(first, first + len(DEMO_AGENCIES)))


def test_a_connector_port_taken_stops_the_demo_naming_the_agency(
    tmp_path: Path, demo_ports: tuple[int, int]
) -> None:
    port, first = demo_ports
    taken = first + 2
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        demo = DemoProcess(tmp_path / "demo", port, first)
        try:
            output = demo.output()
        finally:
            demo.kill()

    assert demo.process.returncode == 2
    agency = DEMO_AGENCIES[2].id
    assert f"credgate: cannot start: {agency}: connector port {taken}" in output
    assert "is ready" not in output
    others = [p for p in range(first, first + len(DEMO_AGENCIES)) if p != taken]
    assert all(_port_free(p) for p in others)
    assert _port_free(port)


def test_a_gateway_that_cannot_start_leaves_no_connector_behind(
    tmp_path: Path, demo_ports: tuple[int, int]
) -> None:
    port, first = demo_ports
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        demo = DemoProcess(tmp_path / "demo", port, first)
        try:
            output = demo.output()
        finally:
            demo.kill()
    pids = [int(m) for m in re.findall(r"pid (\d+)", output)]

    assert demo.process.returncode != 0
    assert "is ready" not in output
    assert [pid for pid in pids if _alive(pid)] == []
    assert all(_port_free(p) for p in range(first, first + len(DEMO_AGENCIES)))
