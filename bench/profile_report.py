"""Sample a running server with py-spy and say where its CPU time per request goes.

py-spy (``pip install py-spy``; not a project dependency) attaches to the pid
from outside, so the server runs unmodified; ``--nonblocking`` does not pause it,
and ``--gil`` keeps only the thread holding the GIL, which on one core is the
Python CPU time (its total agrees with the CPU per request read from /proc
within a few per cent; fsyncs and other waits with the GIL released are not
counted). The raw (collapsed-stack) output is summarised three ways, each in ms
per request:

* **self, by module**: the module of the innermost frame (where the CPU was);
* **own, by project function**: each sample charged to the innermost ``gateway``,
  ``connectors`` or ``bench`` (the baseline's app) function on its stack, so
  library work (SQLAlchemy, cedarpy, graphql-core) counts against the project
  function that called it;
* **inclusive, by project function**: every project function on the stack.

Samples whose innermost frame means waiting (the event loop in ``select``,
idle pool workers, lock waits) are left out should any hold the GIL.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_PROJECT = ("gateway", "connectors", "bench")  # bench: the baseline's own app
# Innermost frames that mean "waiting in C": epoll, an idle pool worker's queue
# get, a lock or condition wait.
_IDLE = {
    ("selectors", "EpollSelector.select"),
    ("selectors", "PollSelector.select"),
    ("selectors", "SelectSelector.select"),
    ("concurrent.futures.thread", "_worker"),
    ("threading", "Condition.wait"),
    ("threading", "Event.wait"),
    ("threading", "Thread._wait_for_tstate_lock"),
    ("queue", "Queue.get"),
}
_REPO = Path(__file__).resolve().parent.parent


def py_spy() -> str | None:
    """The py-spy executable (next to this interpreter, or on PATH), if installed."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, output: Path, rate: int = 200) -> None:
    """Sample ``pid``'s GIL holder for ``seconds`` into ``output`` (collapsed stacks)."""
    executable = py_spy()
    if executable is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    command = [executable, "record", "--pid", str(pid), "--duration", f"{seconds:.0f}"]
    command += ["--rate", str(rate), "--nonblocking", "--gil", "--full-filenames"]
    command += ["--format", "raw"]
    command += ["--output", str(output)]
    subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60)


def module_of(path: str) -> str:
    """A dotted module name for a source file, from the longest sys.path prefix."""
    roots = sorted({str(_REPO), *(p for p in sys.path if p)}, key=len, reverse=True)
    for root in roots:
        if path.startswith(root.rstrip("/") + "/"):
            relative = path[len(root.rstrip("/")) + 1 :]
            break
    else:
        relative = path.lstrip("/")
    dotted = relative.removesuffix(".py").replace("/", ".")
    return dotted.removesuffix(".__init__") or path


@dataclass(frozen=True)
class Frame:
    """One frame of a sampled stack."""

    module: str
    function: str

    @property
    def idle(self) -> bool:
        """Whether this (innermost) frame means the thread was waiting."""
        return (self.module, self.function) in _IDLE

    @property
    def project(self) -> bool:
        """Whether the frame is credgate's own code."""
        return self.module.split(".")[0] in _PROJECT

    def __str__(self) -> str:
        return f"{self.module}.{self.function}"


def parse(lines: Iterable[str]) -> list[tuple[list[Frame], int]]:
    """The stacks (outermost first) and sample counts of py-spy's raw format."""
    stacks = []
    for line in lines:
        text, _, count = line.rstrip("\n").rpartition(" ")
        if not text or not count.isdigit():
            continue
        frames = []
        for part in text.split(";"):
            match = _FRAME.match(part)
            if match is None:  # a thread's name ("process 1:..."), not a frame
                continue
            frames.append(Frame(module_of(match["file"]), match["function"]))
        if frames:
            stacks.append((frames, int(count)))
    return stacks


@dataclass(frozen=True)
class Profile:
    """Sample counts, three ways, and what one sample is worth."""

    samples: int
    idle: int
    by_module: Counter[str]
    by_own: Counter[str]
    by_inclusive: Counter[str]
    ms_per_sample_per_request: float

    def ms(self, count: int) -> float:
        """The CPU ms per request that ``count`` samples stand for."""
        return count * self.ms_per_sample_per_request


def summarize(raw: Path, requests: int, rate: int) -> Profile:
    """Aggregate a py-spy raw file taken while ``requests`` requests were served."""
    by_module: Counter[str] = Counter()
    by_own: Counter[str] = Counter()
    by_inclusive: Counter[str] = Counter()
    total = idle = 0
    for frames, count in parse(raw.read_text(encoding="utf-8", errors="replace").splitlines()):
        if frames[-1].idle:
            idle += count
            continue
        total += count
        by_module[frames[-1].module] += count
        project = [frame for frame in frames if frame.project]
        by_own[str(project[-1]) if project else f"(outside project) {frames[-1].module}"] += count
        for name in {str(frame) for frame in project}:
            by_inclusive[name] += count
    per_sample = 1000 / rate / max(requests, 1)
    return Profile(total, idle, by_module, by_own, by_inclusive, per_sample)


def report(profile: Profile, top: int = 15) -> str:
    """The three top lists as text (ms of CPU per request)."""
    lines = [
        f"py-spy samples: {profile.samples} running (= {profile.ms(profile.samples):.2f} ms "
        f"per request), {profile.idle} waiting (left out)"
    ]
    for title, counter in (
        ("self time by module (where the CPU was)", profile.by_module),
        ("own time by project function (innermost gateway/connectors/bench frame)", profile.by_own),
        ("inclusive time by project function", profile.by_inclusive),
    ):
        lines.append(f"\n  {title}:")
        for name, count in counter.most_common(top):
            share = 100 * count / max(profile.samples, 1)
            lines.append(f"    {profile.ms(count):6.2f} ms  {share:5.1f} %  {name}")
    return "\n".join(lines)
