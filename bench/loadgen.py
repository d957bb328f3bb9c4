"""Drive an HTTP endpoint at a fixed concurrency for a bounded time and measure it.

wrk is used when it is installed (it costs the machine far less CPU than a Python
client, which matters on two cores); otherwise a small asyncio/aiohttp load
generator does the same job. Both report requests/s and latency percentiles; the
server's CPU per request is read from /proc for the server's process ids.
Several URLs (one system served by several processes) are loaded round-robin,
request by request, by the asyncio client (wrk takes one URL).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float | None
    tool: str
    marked: int = 0
    """Responses (counted among ``requests``) whose body held ``marker``."""

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def process_cpu_seconds(pids: Sequence[int]) -> float:
    """User+system CPU seconds used so far by these processes (and their reaped children)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime are fields 14-17 (1-based) of /proc/PID/stat.
        total += sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    return total


def percentiles(latencies: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 of ``latencies`` (0 for none), as the asyncio client reports them."""
    ordered = sorted(latencies) or [0.0]
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _asyncio_load(
    urls: Sequence[str],
    body: bytes,
    headers: dict[str, str],
    concurrency: int,
    duration_s: float,
    marker: bytes | None = None,
) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    errors = marked = 0
    deadline = time.monotonic() + duration_s
    connector = aiohttp.TCPConnector(limit=concurrency)
    rotation = itertools.cycle(urls)  # one event loop: no lock needed
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors, marked
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    url = next(rotation)
                    async with session.post(url, data=body, headers=headers) as response:
                        answer = await response.read()
                        ok = response.status == 200
                        marked += bool(ok and marker and marker in answer)
                except aiohttp.ClientError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, marked


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
{headers}
local marker = {marker}
local threads = {{}}
setup = function(thread) table.insert(threads, thread) end
init = function(args) marked = 0 end
{response}
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + (thread:get("marked") or 0) end
  io.write(string.format("CREDGATE %d %d %f %f %f %d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, total))
end
"""
# Defined only when a marker is wanted: a response() hook makes wrk hand every body
# to Lua, which costs the load generator some CPU.
_WRK_RESPONSE = """
response = function(status, headers, body)
  if status == 200 and string.find(body, marker, 1, true) then marked = marked + 1 end
end
"""


def _lua_string(data: bytes) -> str:
    """A Lua string literal of ``data``, any bytes (UTF-8 included) escaped.

    wrk's LuaJIT knows no ``\\u`` escapes (JSON's): every byte outside printable
    ASCII, and the quote and backslash, becomes a decimal escape ``\\ddd``.
    """
    plain = {*range(0x20, 0x7F)} - {ord('"'), ord("\\")}
    return '"' + "".join(chr(b) if b in plain else f"\\{b:03d}" for b in data) + '"'


def _wrk_load(
    url: str,
    body: bytes,
    headers: dict[str, str],
    concurrency: int,
    duration_s: float,
    marker: bytes | None = None,
) -> tuple[int, int, float, float, float, int]:
    header_lines = "\n".join(
        f"wrk.headers[{_lua_string(k.encode())}] = {_lua_string(v.encode())}"
        for k, v in headers.items()
    )
    script = _WRK_SCRIPT.format(
        body=_lua_string(body),
        headers=header_lines,
        marker=_lua_string(marker) if marker else "nil",
        response=_WRK_RESPONSE if marker else "",
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        completed = subprocess.run(
            [
                "wrk",
                "-t",
                "1",
                "-c",
                str(concurrency),
                "-d",
                f"{duration_s:.0f}s",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=duration_s + 30,
        )
    finally:
        os.unlink(handle.name)
    output = completed.stdout
    match = re.search(r"CREDGATE (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", output)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{output}\n{completed.stderr}")
    requests, errors = int(match[1]), int(match[2])
    return requests, errors, float(match[3]), float(match[4]), float(match[5]), int(match[6])


def run_load(
    url: str | Sequence[str],
    body: bytes,
    headers: dict[str, str],
    *,
    concurrency: int,
    duration_s: float,
    server_pids: Sequence[int] = (),
    prefer_wrk: bool = True,
    marker: bytes | None = None,
) -> LoadResult:
    """Load ``url`` with POSTs of ``body`` at ``concurrency`` for ``duration_s`` seconds.

    ``url`` may be several URLs of one system (processes behind no balancer):
    each request goes to the next, round-robin, through the asyncio client.

    ``marker``: count the 200 responses whose body contains it (e.g. ``b'"errors"'``,
    so GraphQL errors, which come with status 200, are not mistaken for answers).
    """
    urls = [url] if isinstance(url, str) else list(url)
    cpu_before = process_cpu_seconds(server_pids)
    if prefer_wrk and len(urls) == 1 and shutil.which("wrk"):
        requests, errors, seconds, p50, p99, marked = _wrk_load(
            urls[0], body, headers, concurrency, duration_s, marker
        )
        # wrk counts non-2xx responses in errors.status but also in requests.
        ok = requests - errors
        tool = "wrk"
    else:
        started = time.monotonic()
        latencies, errors, marked = asyncio.run(
            _asyncio_load(urls, body, headers, concurrency, duration_s, marker)
        )
        seconds = time.monotonic() - started
        ok = len(latencies)
        p50, p99 = percentiles(latencies)
        tool = "asyncio"
    cpu = process_cpu_seconds(server_pids) - cpu_before if server_pids else None
    cpu_per_request = cpu * 1000 / ok if cpu is not None and ok else None
    return LoadResult(ok, errors, seconds, p50, p99, cpu_per_request, tool, marked)
