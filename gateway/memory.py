"""Keeping the gateway's resident memory flat: a bound on glibc's malloc arenas.

glibc gives each thread that allocates concurrently its own arena (up to 8 per
core) and never returns an arena's high-water mark. The gateway's worker threads
(database calls, the audit writer and integrator) come and go, so under steady
load its RSS climbed in ~15 MiB steps for minutes (bench.throughput soak: 190 →
266 MiB in 300 s). With two arenas the same soak stays flat (155 → 157 MiB):
those threads mostly wait on the GIL or the database, so they gain nothing from
more arenas.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# mallopt's parameter number for M_ARENA_MAX (glibc's malloc.h).
_M_ARENA_MAX = -8
DEFAULT_ARENAS = 2


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
