"""Test doubles for the connector SDK, and the conformance suite (re-exported).

The doubles wrap or replace a :class:`~connectors.sdk.Connector` in tests of the
gateway: :class:`DelayedConnector` (slow agency), :class:`FailingConnector`
(broken agency), :class:`RecordingConnector` (was it asked, and what?) and
:class:`StaticConnector` (canned records, no database); for control measures
:class:`ScriptedControls` (an agency that accepts, executes or rejects, in
memory). The conformance suite every connector must pass lives in
:mod:`connectors.conformance`; the one every control connector must pass in
:mod:`connectors.control_testing`.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Mapping, Sequence

from connectors.conformance import (
    CHECKS,
    ConformanceCase,
    ConformanceCheck,
    conformance_request,
    run_conformance,
)
from connectors.control_testing import CONTROL_CHECKS, ScriptedControls, run_control_conformance
from connectors.sdk import (
    DATASETS,
    AgencyIdentity,
    Connector,
    ConnectorError,
    FetchRequest,
    FetchResult,
    Record,
    ensure_served,
    project_record,
)

__all__ = [
    "CHECKS",
    "CONTROL_CHECKS",
    "ConformanceCase",
    "ConformanceCheck",
    "ConnectorWrapper",
    "DelayedConnector",
    "FailingConnector",
    "RecordingConnector",
    "ScriptedControls",
    "StaticConnector",
    "conformance_request",
    "run_conformance",
    "run_control_conformance",
]


class ConnectorWrapper:
    """A connector that stands for ``inner``: same agency, same datasets.

    Subclasses override ``fetch`` to add behaviour around the inner call.
    """

    def __init__(self, inner: Connector) -> None:
        self.inner = inner

    @property
    def identity(self) -> AgencyIdentity:
        """The inner connector's agency."""
        return self.inner.identity

    @property
    def datasets(self) -> frozenset[str]:
        """The inner connector's datasets."""
        return self.inner.datasets

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Ask the inner connector."""
        return await self.inner.fetch(request)


class DelayedConnector(ConnectorWrapper):
    """Sleeps ``delay_s`` seconds, then delegates; cancelling cancels the sleep."""

    def __init__(self, inner: Connector, delay_s: float) -> None:
        super().__init__(inner)
        self.delay_s = delay_s

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Wait, then ask the inner connector."""
        await asyncio.sleep(self.delay_s)
        return await self.inner.fetch(request)


class FailingConnector:
    """Raises ``error`` on every fetch."""

    def __init__(
        self, identity: AgencyIdentity, datasets: frozenset[str], error: ConnectorError
    ) -> None:
        self._identity = identity
        self._datasets = datasets
        self.error = error

    @property
    def identity(self) -> AgencyIdentity:
        """The agency it pretends to be."""
        return self._identity

    @property
    def datasets(self) -> frozenset[str]:
        """The datasets it claims to serve."""
        return self._datasets

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Raise the configured error."""
        raise self.error


class RecordingConnector(ConnectorWrapper):
    """Delegates, keeping every request in ``requests`` (in arrival order)."""

    def __init__(self, inner: Connector) -> None:
        super().__init__(inner)
        self.requests: list[FetchRequest] = []

    @property
    def called(self) -> bool:
        """Whether any request arrived."""
        return bool(self.requests)

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Record the request, then ask the inner connector."""
        self.requests.append(request)
        return await self.inner.fetch(request)


class StaticConnector:
    """Answers from canned full records, keyed by subject ID number and dataset.

    It serves every catalog dataset of ``identity.kind``, projects the fields
    asked and honours ``since``/``until``, so it passes the conformance suite.
    """

    def __init__(
        self,
        identity: AgencyIdentity,
        records: Mapping[str, Mapping[str, Sequence[Record]]],
    ) -> None:
        self._identity = identity
        self._records = records
        self._datasets = frozenset(
            name for name, spec in DATASETS.items() if spec.agency_kind == identity.kind
        )

    @property
    def identity(self) -> AgencyIdentity:
        """The agency it answers for."""
        return self._identity

    @property
    def datasets(self) -> frozenset[str]:
        """Every catalog dataset of its kind."""
        return self._datasets

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """The subject's canned records, projected to the fields asked."""
        ensure_served(self._identity, self._datasets, request)
        known = self._records.get(request.subject.id_number, {})
        answer: dict[str, list[Record]] = {}
        for name, query in request.datasets.items():
            time_field = DATASETS[name].time_field
            answer[name] = [
                project_record(record, query.fields)
                for record in known.get(name, ())
                if time_field is None or _within(record.get(time_field), query.since, query.until)
            ]
        return FetchResult(self._identity.id, answer)


def _within(value: object, since: datetime.date | None, until: datetime.date | None) -> bool:
    if not isinstance(value, str):
        return False
    day = datetime.date.fromisoformat(value[:10])
    return (since is None or day >= since) and (until is None or day <= until)
