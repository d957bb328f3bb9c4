"""graphql-core's executor, letting go of itself once the operation is answered.

graphql-core 3.3's executor keeps ``async_helpers``, which holds two bound
methods of the executor itself: a reference cycle. Everything the executor
reaches (the request context, the request, its access record, every collected
field) is then freed only by Python's cyclic garbage collector, never by
reference counting. An investigation lives for many allocations, so those
objects are promoted to the oldest generation before they die, and the full
collections that eventually reclaim them walked the whole heap: about 1.4 ms of
CPU per investigation at concurrency 16 (bench.throughput, issue 14). Dropping
the helpers once the result is built breaks the cycle; nothing uses them after.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["ReleasingExecutionContext"]


class ReleasingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, without its reference cycle after the operation."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        """Execute as graphql-core does, then release the helpers (see the module)."""
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return self._release_after(result)
        self._release()
        return result

    async def _release_after(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        finally:
            self._release()

    def _release(self) -> None:
        # Deleting the instance attribute: a resolver that still ran (it cannot,
        # the operation is over) would fail loudly instead of working on a
        # finished executor.
        self.__dict__.pop("async_helpers", None)
