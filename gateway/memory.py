"""Keeping the gateway's memory flat and its garbage collection cheap.

**Malloc arenas.**
glibc gives each thread that allocates concurrently its own arena (up to 8 per
core) and never returns an arena's high-water mark. The gateway's worker threads
(database calls, the audit writer and integrator) come and go, so under steady
load its RSS climbed in ~15 MiB steps for minutes (bench.throughput soak: 190 →
266 MiB in 300 s). With two arenas the same soak stays flat (155 → 157 MiB):
those threads mostly wait on the GIL or the database, so they gain nothing from
more arenas.

**The cyclic garbage collector.** A request's objects are freed by reference
counting (the schema's executor and the request audit keep no reference cycles,
see gateway.schema.executor), but an investigation allocates for long enough
that, at the default gen-0 threshold of 700, its live objects were collected
about once per request and promoted through the generations, and each full
collection walked every object start-up built (the schema, Cedar's catalog,
keys): 1.0-1.5 s of the gateway's CPU per ten seconds at concurrency 16. With
what start-up built frozen out of the collector and a gen-0 threshold of
20,000, that is about 0.02 s (bench.throughput, issue 14). Only reference
cycles still need the collector, and they are rare, so memory stays bounded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os

# mallopt's parameter number for M_ARENA_MAX (glibc's malloc.h).
_M_ARENA_MAX = -8
DEFAULT_ARENAS = 2
GEN0_THRESHOLD = 20_000
"""Net new container objects between young collections (CPython's default: 700)."""


def limit_malloc_arenas(arenas: int = DEFAULT_ARENAS) -> bool:
    """Bound glibc's malloc arenas; call before the first worker thread starts.

    An operator's ``MALLOC_ARENA_MAX`` wins (glibc read it at start-up). Returns
    whether the limit was applied (False on other C libraries or platforms).
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))


def settle_heap(gen0_threshold: int = GEN0_THRESHOLD) -> None:
    """Freeze the objects built so far out of the collector, and collect less often.

    Call once a server is built and before it serves (see the module): what
    start-up built lives as long as the process, so no collection need visit it.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
