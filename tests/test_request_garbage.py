"""An answered request leaves nothing for the cyclic garbage collector.

The gateway serves with a high gen-0 threshold and start-up's objects frozen
(gateway.memory.settle_heap), which is cheap only while requests are freed by
reference counting: a reference cycle anywhere on the request's path would
leave the request context, the request, its access record and graphql-core's
collected fields to the collector again. DEBUG_SAVEALL keeps what a collection
finds, so the test sees every object a request left in a cycle.
"""

from __future__ import annotations

import contextlib
import gc
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from gateway.demo import prepare_demo
from gateway.memory import GEN0_THRESHOLD
from tests.conftest import serving

# What a request builds on the server side; the test's own httpx client and
# transport are not the gateway's concern.
_SERVER_MODULES = ("gateway.", "connectors.", "graphql.", "strawberry.", "starlette.", "cedarpy")


@contextlib.contextmanager
def saved_garbage() -> Iterator[list[object]]:
    """What collections in the block find unreachable, kept instead of freed.

    Everything unreachable before the block is freed first; clearing
    ``gc.garbage`` alone would not free cycles, the next collection would find
    them again.
    """
    gc.set_debug(0)
    gc.collect()
    gc.garbage.clear()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()


def _server_side(garbage: list[object]) -> Counter[str]:
    names = (f"{type(o).__module__}.{type(o).__qualname__}" for o in garbage)
    return Counter(name for name in names if name.startswith(_SERVER_MODULES))


async def test_an_investigation_and_a_refusal_leave_no_cycles(tmp_path: Path) -> None:
    setup = prepare_demo(tmp_path, 8000)
    document = json.loads((tmp_path / "demo.json").read_text(encoding="utf-8"))
    officer = document["clients"]["officer"]
    async with serving(setup.settings) as gateway:
        token = await gateway.token(officer["client_id"], officer["client_secret"])
        example = document["investigation_example"]
        unknown_case = {**example["variables"], "caseNumber": "(2026)豫0823执9999号"}

        async def investigate(variables: dict[str, object]) -> dict[str, object]:
            response = await gateway.graphql(token, example["query"], variables)
            assert response.status_code == 200, response.text
            result: dict[str, object] = response.json()
            return result

        # Warm: caches, pools and lazily built plans are start-up's, not a request's.
        await investigate(example["variables"])
        await investigate(unknown_case)
        with saved_garbage() as garbage:
            found = await investigate(example["variables"])
            refused = await investigate(unknown_case)
            gc.collect()
            left = _server_side(garbage)

    assert "errors" not in found
    assert found["data"]["investigation"]["bankAccounts"]  # type: ignore[index]
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # type: ignore[index]
    assert left == Counter(), left.most_common(20)


def test_settle_heap_freezes_start_up_and_raises_the_threshold() -> None:
    # In a child process: freezing the test runner's heap would outlive this test.
    script = (
        "import gc; from gateway.memory import settle_heap; gc.set_threshold(700, 10, 10); "
        "settle_heap(); print(gc.get_freeze_count(), *gc.get_threshold())"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    frozen, gen0, gen1, gen2 = map(int, completed.stdout.split())
    assert frozen > 1000
    assert (gen0, gen1, gen2) == (GEN0_THRESHOLD, 10, 10)
