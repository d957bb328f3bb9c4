"""A control-measure test double, and the conformance checks every ControlConnector must pass.

:class:`ScriptedControls` is an agency that takes measures on any controlled
dataset without a database: it accepts (or rejects with a given reason) and
executes on the next ``reports``, as an asynchronous agency does. It lets the
gateway's measure flow be tested for asset classes no demo agency holds yet
(real estate, vehicles, equity).

:func:`run_control_conformance` checks an implementation against the protocol's
promises: idempotency by measure id, a reused id refused, asynchronous
execution visible through ``reports``, unknown ids left out, reports that
survive their JSON form.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from connectors.control import (
    PLACING_KINDS,
    ControlConnector,
    MeasureOrder,
    MeasureReport,
)
from connectors.sdk import AgencyIdentity, AgencyRejected, Connector, FetchRequest, FetchResult


class _Agency(Connector, ControlConnector, Protocol):
    """An agency speaking both protocols."""


__all__ = ["CONTROL_CHECKS", "DelayedControls", "ScriptedControls", "run_control_conformance"]


class ScriptedControls:
    """An in-memory agency that takes measures: a :class:`ControlConnector` double.

    Args:
        inner: Answers ``fetch`` (the agency's inquiry side).
        controlled: The datasets it accepts measures on.
        reject_with: When set, every order is rejected with this reason.
    """

    def __init__(
        self, inner: Connector, controlled: frozenset[str], reject_with: str | None = None
    ) -> None:
        self.inner = inner
        self._controlled = controlled
        self.reject_with = reject_with
        self.orders: list[MeasureOrder] = []
        self._reports: dict[str, MeasureReport] = {}
        self._orders: dict[str, MeasureOrder] = {}

    @property
    def identity(self) -> AgencyIdentity:
        """The inner connector's agency."""
        return self.inner.identity

    @property
    def datasets(self) -> frozenset[str]:
        """The inner connector's datasets."""
        return self.inner.datasets

    @property
    def controlled(self) -> frozenset[str]:
        """The datasets it takes measures on."""
        return self._controlled

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """The inner connector's answer."""
        return await self.inner.fetch(request)

    async def submit(self, order: MeasureOrder) -> MeasureReport:
        """Accept (or reject) once per measure id; the same id again answers the same."""
        agency_id = self.identity.id
        known = self._orders.get(order.measure_id)
        if known is not None:
            if known != order:
                raise AgencyRejected("measure id reused for another order", agency_id=agency_id)
            return self._reports[order.measure_id]
        if order.asset.dataset not in self._controlled:
            raise AgencyRejected(f"no measures on {order.asset.dataset}", agency_id=agency_id)
        self.orders.append(order)
        self._orders[order.measure_id] = order
        if self.reject_with is not None:
            report = MeasureReport(order.measure_id, agency_id, "rejected", reason=self.reject_with)
        else:
            report = MeasureReport(order.measure_id, agency_id, "accepted")
        self._reports[order.measure_id] = report
        return report

    async def reports(self, measure_ids: Sequence[str]) -> list[MeasureReport]:
        """Execute what was accepted, then report the known ids."""
        answered = []
        for measure_id in measure_ids:
            report = self._reports.get(measure_id)
            if report is None:
                continue
            if report.status == "accepted":
                order = self._orders[measure_id]
                placing = order.kind in PLACING_KINDS
                report = dataclasses.replace(
                    report,
                    status="executed",
                    reference=f"S-{len(self._reports):06d}-{measure_id[:8]}",
                    amount=order.amount,
                    effective_until=order.until if placing else None,
                )
                self._reports[measure_id] = report
            answered.append(report)
        return answered


class DelayedControls:
    """An agency that takes measures, every answer (fetch, submit, reports) ``delay_s`` late.

    A testing and benchmark aid: the delay stands for the agency's own processing.
    """

    def __init__(self, inner: _Agency, delay_s: float) -> None:
        self.inner = inner
        self.delay_s = delay_s

    @property
    def identity(self) -> AgencyIdentity:
        """The inner agency."""
        return self.inner.identity

    @property
    def datasets(self) -> frozenset[str]:
        """The inner agency's datasets."""
        return self.inner.datasets

    @property
    def controlled(self) -> frozenset[str]:
        """The inner agency's controlled datasets."""
        return self.inner.controlled

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """The inner answer, late."""
        await asyncio.sleep(self.delay_s)
        return await self.inner.fetch(request)

    async def submit(self, order: MeasureOrder) -> MeasureReport:
        """The inner answer, late."""
        await asyncio.sleep(self.delay_s)
        return await self.inner.submit(order)

    async def reports(self, measure_ids: Sequence[str]) -> list[MeasureReport]:
        """The inner answer, late."""
        await asyncio.sleep(self.delay_s)
        return await self.inner.reports(measure_ids)


async def check_submit_is_idempotent(connector: ControlConnector, order: MeasureOrder) -> None:
    """The same order twice is one measure, answered alike."""
    first = await connector.submit(order)
    again = await connector.submit(order)
    _require(first.measure_id == order.measure_id, "report names another measure")
    _require(first.status == again.status, "a resubmitted order changed its answer")
    _require(first.agency_id == connector.identity.id, "report names another agency")


async def check_reused_id_is_refused(connector: ControlConnector, order: MeasureOrder) -> None:
    """A measure id used for another order is refused, typed."""
    await connector.submit(order)
    other = dataclasses.replace(order, notice=dataclasses.replace(order.notice, number="other"))
    try:
        await connector.submit(other)
    except AgencyRejected:
        return
    raise AssertionError("a reused measure id for another order was accepted")


async def check_execution_is_reported(connector: ControlConnector, order: MeasureOrder) -> None:
    """An accepted order is reported executed (or rejected) later, never forgotten."""
    first = await connector.submit(order)
    (report,) = await connector.reports([order.measure_id])
    if first.status == "accepted":
        _require(report.status in ("executed", "rejected"), f"still {report.status}")
    if report.status == "rejected":
        _require(bool(report.reason), "a rejection gives its reason")
    _require(MeasureReport.from_json(report.to_json()) == report, "report JSON round trip")


async def check_unknown_ids_are_left_out(connector: ControlConnector, order: MeasureOrder) -> None:
    """Reports name only measures the agency holds."""
    reports = await connector.reports([order.measure_id + "-unknown"])
    _require(reports == [], "reported a measure never submitted")


ControlCheck = Callable[[ControlConnector, MeasureOrder], Awaitable[None]]
CONTROL_CHECKS: tuple[ControlCheck, ...] = (
    check_submit_is_idempotent,
    check_reused_id_is_refused,
    check_execution_is_reported,
    check_unknown_ids_are_left_out,
)


async def run_control_conformance(
    connector: ControlConnector, make_order: Callable[[str], MeasureOrder]
) -> None:
    """Run every control check, each with a fresh order from ``make_order(measure_id)``.

    Raises:
        AssertionError: naming the first check that failed.
    """
    _require(isinstance(connector, ControlConnector), "not a ControlConnector")
    for index, check in enumerate(CONTROL_CHECKS):
        order = make_order(f"conformance-{index:03d}-{check.__name__[6:30]}")
        try:
            await check(connector, order)
        except AssertionError as error:
            raise AssertionError(f"{check.__name__}: {error}") from None


def _require(condition: object, message: str) -> None:
    if not condition:
        raise AssertionError(message)
