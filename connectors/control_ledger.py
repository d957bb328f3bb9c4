"""A generic agency side of control measures: a ledger table next to the agency's data.

Any SQL connector opts in by declaring, per controlled dataset, an
:class:`AssetBinding`: which of its own columns names an asset, which holds its
holder's ID number, and which its balance. :class:`MeasureLedger` then
implements :class:`~connectors.control.ControlConnector` over a ledger table
(``credgate_measures``) in a database the agency chooses (its own, or one next
to it when its core tables must stay read-only, as in the demo).

Execution is asynchronous, as at a real agency: ``submit`` checks the order and
accepts (or rejects, with the reason); the measure is executed when the agency
next reports on it (``reports``), which is deterministic in tests and, in a
service, happens on the gateway's next poll. The checks are the agency's own:
an asset it does not hold for that subject is rejected; a freeze for more than
is available executes the available amount; a deduction takes at most what the
freeze still holds; a freeze past its last day is reported ``expired``.

The ledger keeps its own books and never posts to the agency's core tables:
money frozen or deducted is subtracted from what later freezes find available.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from connectors.control import (
    CONTROLLED_DATASETS,
    PLACING_KINDS,
    MeasureOrder,
    MeasureReport,
    MeasureStatus,
)
from connectors.sdk import (
    AgencyIdentity,
    AgencyRejected,
    AgencyUnavailable,
    Connector,
    FetchRequest,
    FetchResult,
)
from connectors.signing import canonical_json

__all__ = ["AssetBinding", "ControlledConnector", "MeasureLedger", "ledger_metadata"]

ledger_metadata = MetaData()

measures = Table(
    "credgate_measures",
    ledger_metadata,
    Column("measure_id", String(64), primary_key=True),
    Column("order_sha256", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("asset_key", String(64), nullable=False, index=True),
    Column("acts_on", String(64)),
    Column("status", String(16), nullable=False),
    Column("requested_cents", BigInteger),
    # Placements: what the measure holds now (deductions take from it); others: what they did.
    Column("amount_cents", BigInteger),
    Column("until", Date),
    Column("reference", String(32)),
    Column("reason", String(200)),
    Column("ruling_number", String(128), nullable=False),
    Column("notice_number", String(128), nullable=False),
)

_ACTIVE = ("accepted", "executed")


@dataclass(frozen=True)
class AssetBinding:
    """How an agency's own tables hold the assets of one controlled dataset.

    Attributes:
        key: The column naming one asset (e.g. ``t_acct.acct_no``).
        owner: The column with its holder's ID number.
        balance: The money column, for amount-bound assets.
        to_cents: Converts a ``balance`` value to integer cents (fen).
    """

    key: ColumnElement[Any]
    owner: ColumnElement[Any]
    balance: ColumnElement[Any] | None = None
    to_cents: Callable[[Any], int] = int


def _cents(amount: str | None) -> int | None:
    return None if amount is None else int(Decimal(amount) * 100)


def _yuan(cents: int | None) -> str | None:
    return None if cents is None else f"{Decimal(cents) / 100:.2f}"


class MeasureLedger:
    """Control measures over a ledger table: a :class:`~connectors.control.ControlConnector`.

    Args:
        identity: The agency.
        assets_url: The database holding the agency's assets (read only).
        ledger_url: The database holding the ledger (created if missing).
        bindings: Per controlled dataset, how its assets are found.
        today: The agency's calendar (tests pass a fixed day).
    """

    def __init__(
        self,
        identity: AgencyIdentity,
        assets_url: str,
        ledger_url: str,
        bindings: Mapping[str, AssetBinding],
        *,
        today: Callable[[], datetime.date] = datetime.date.today,
    ) -> None:
        unknown = set(bindings) - set(CONTROLLED_DATASETS)
        if unknown:
            raise ValueError(f"not controlled datasets: {sorted(unknown)}")
        self._identity = identity
        self._bindings = dict(bindings)
        self._assets = create_engine(assets_url)
        self._ledger = create_engine(ledger_url)
        self._today = today
        # One writer at a time: an order's checks and its row are one decision.
        self._lock = threading.Lock()
        ledger_metadata.create_all(self._ledger)

    @property
    def identity(self) -> AgencyIdentity:
        """The agency."""
        return self._identity

    @property
    def controlled(self) -> frozenset[str]:
        """The datasets it accepts measures on."""
        return frozenset(self._bindings)

    async def submit(self, order: MeasureOrder) -> MeasureReport:
        """Check and record an order; see :class:`~connectors.control.ControlConnector`."""
        return await asyncio.to_thread(self._guarded, self._submit, order)

    async def reports(self, measure_ids: Sequence[str]) -> list[MeasureReport]:
        """Execute what is due, then report; see :class:`~connectors.control.ControlConnector`."""
        return await asyncio.to_thread(self._guarded, self._status, list(measure_ids))

    def close(self) -> None:
        """Dispose of both engines."""
        self._assets.dispose()
        self._ledger.dispose()

    async def aclose(self) -> None:
        """Dispose of both engines off the event loop."""
        await asyncio.to_thread(self.close)

    def _guarded(self, work: Callable[[Connection, Any], Any], argument: Any) -> Any:
        try:
            with self._lock, self._ledger.begin() as ledger:
                return work(ledger, argument)
        except SQLAlchemyError as exc:
            reason = type(exc.orig if hasattr(exc, "orig") else exc).__name__
            raise AgencyUnavailable(
                f"database error ({reason})", agency_id=self._identity.id
            ) from exc

    # -- submit -------------------------------------------------------------

    def _submit(self, ledger: Connection, order: MeasureOrder) -> MeasureReport:
        digest = hashlib.sha256(canonical_json(order.to_json())).hexdigest()
        existing = ledger.execute(
            select(measures).where(measures.c.measure_id == order.measure_id)
        ).first()
        if existing is not None:
            if existing.order_sha256 != digest:
                raise AgencyRejected(
                    f"measure id {order.measure_id} was used for another order",
                    agency_id=self._identity.id,
                )
            return self._report(existing)
        if order.asset.dataset not in self._bindings:
            raise AgencyRejected(
                f"no measures are accepted on {order.asset.dataset}", agency_id=self._identity.id
            )
        reason = self._refusal(ledger, order)
        ledger.execute(
            insert(measures).values(
                measure_id=order.measure_id,
                order_sha256=digest,
                kind=order.kind,
                dataset=order.asset.dataset,
                asset_key=order.asset.key,
                acts_on=order.acts_on,
                status="rejected" if reason else "accepted",
                requested_cents=_cents(order.amount),
                until=order.until,
                reason=reason,
                ruling_number=order.ruling.number,
                notice_number=order.notice.number,
            )
        )
        row = ledger.execute(
            select(measures).where(measures.c.measure_id == order.measure_id)
        ).one()
        return self._report(row)

    def _refusal(self, ledger: Connection, order: MeasureOrder) -> str | None:
        """Why the agency refuses the order, or ``None``."""
        spec = CONTROLLED_DATASETS[order.asset.dataset].spec
        if order.kind in PLACING_KINDS:
            if order.kind != spec.placing_kind:
                return f"{order.kind} does not apply to {order.asset.dataset}"
            if self._balance(order) is None:
                return "no such asset of this subject is held here"
            active = ledger.execute(
                select(measures.c.reference).where(
                    measures.c.asset_key == order.asset.key,
                    measures.c.kind == order.kind,
                    measures.c.status.in_(_ACTIVE),
                )
            ).first()
            if active is not None:
                return f"the asset is already under measure {active.reference or 'pending'}"
            return None
        target = None
        if order.acts_on is not None:
            target = ledger.execute(
                select(measures).where(measures.c.measure_id == order.acts_on)
            ).first()
        if target is None or target.asset_key != order.asset.key:
            return "the measure acted on is not held here for this asset"
        if target.status != "executed":
            return f"the measure acted on is {target.status}, not in force"
        if order.kind == "renew_freeze" and (order.until is None or order.until <= target.until):
            return "a renewal must extend the period in force"
        if order.kind == "deduct" and not spec.deductible:
            return f"nothing can be deducted from {order.asset.dataset}"
        return None

    def _balance(self, order: MeasureOrder) -> int | None:
        """The asset's balance in cents (0 for a whole asset), ``None`` if not held."""
        binding = self._bindings[order.asset.dataset]
        column = binding.balance if binding.balance is not None else binding.key
        with self._assets.connect() as assets:
            value = assets.execute(
                select(column).where(
                    binding.key == order.asset.key, binding.owner == order.subject.id_number
                )
            ).first()
        if value is None:
            return None
        return binding.to_cents(value[0]) if binding.balance is not None else 0

    # -- status -------------------------------------------------------------

    def _status(self, ledger: Connection, measure_ids: list[str]) -> list[MeasureReport]:
        rows = ledger.execute(select(measures).where(measures.c.measure_id.in_(measure_ids))).all()
        reports = []
        for row in sorted(rows, key=lambda r: measure_ids.index(r.measure_id)):
            if row.status == "accepted":
                self._execute(ledger, row)
            self._expire(ledger, row.measure_id)
            current = ledger.execute(
                select(measures).where(measures.c.measure_id == row.measure_id)
            ).one()
            reports.append(self._report(current))
        return reports

    def _execute(self, ledger: Connection, row: Any) -> None:
        """Carry out an accepted measure: what a clerk does once the notice is served."""
        seed = f"{self._identity.id}:{row.measure_id}".encode()
        reference = "R" + hashlib.sha256(seed).hexdigest()[:11].upper()
        values: dict[str, Any] = {"status": "executed", "reference": reference}
        target = None
        if row.acts_on is not None:
            target = ledger.execute(
                select(measures).where(measures.c.measure_id == row.acts_on)
            ).one()
        if row.kind in PLACING_KINDS:
            values["amount_cents"] = self._freezable(ledger, row)
        elif target is None or target.status != "executed":
            values = {"status": "rejected", "reason": "the measure acted on is no longer in force"}
        elif row.kind == "renew_freeze":
            values["amount_cents"] = target.amount_cents
            self._set(ledger, target.measure_id, until=row.until)
        elif row.kind == "deduct":
            taken = min(row.requested_cents or 0, target.amount_cents or 0)
            values["amount_cents"] = taken
            self._set(ledger, target.measure_id, amount_cents=(target.amount_cents or 0) - taken)
        else:  # unfreeze, release_seal
            values["amount_cents"] = target.amount_cents
            self._set(ledger, target.measure_id, status="released")
        self._set(ledger, row.measure_id, **values)

    def _freezable(self, ledger: Connection, row: Any) -> int | None:
        """Cents a placement holds: what it asks, at most what is free; ``None``: whole asset."""
        binding = self._bindings[row.dataset]
        if binding.balance is None:
            return None
        with self._assets.connect() as assets:
            value = assets.execute(
                select(binding.balance).where(binding.key == row.asset_key)
            ).first()
        balance = binding.to_cents(value[0]) if value is not None else 0
        held = ledger.execute(
            select(func.coalesce(func.sum(measures.c.amount_cents), 0)).where(
                measures.c.asset_key == row.asset_key,
                measures.c.measure_id != row.measure_id,
                (measures.c.kind == "deduct") | (measures.c.kind.in_(PLACING_KINDS)),
                measures.c.status == "executed",
            )
        ).scalar_one()
        free = max(balance - int(held), 0)
        return free if row.requested_cents is None else min(row.requested_cents, free)

    def _expire(self, ledger: Connection, measure_id: str) -> None:
        ledger.execute(
            update(measures)
            .where(
                measures.c.measure_id == measure_id,
                measures.c.kind.in_(PLACING_KINDS),
                measures.c.status == "executed",
                measures.c.until < self._today(),
            )
            .values(status="expired")
        )

    @staticmethod
    def _set(ledger: Connection, measure_id: str, **values: Any) -> None:
        ledger.execute(update(measures).where(measures.c.measure_id == measure_id).values(**values))

    def _report(self, row: Any) -> MeasureReport:
        status: MeasureStatus = row.status
        return MeasureReport(
            measure_id=row.measure_id,
            agency_id=self._identity.id,
            status=status,
            reference=row.reference,
            amount=_yuan(row.amount_cents),
            reason=row.reason,
            effective_until=row.until if row.kind in PLACING_KINDS else None,
        )


class ControlledConnector:
    """An inquiry connector and a measure ledger as one agency: both protocols.

    Args:
        connector: Answers ``fetch``.
        ledger: Answers ``submit`` and ``status``.
    """

    def __init__(self, connector: Connector, ledger: MeasureLedger) -> None:
        if connector.identity != ledger.identity:
            raise ValueError("the connector and the ledger must be of one agency")
        self.connector = connector
        self.ledger = ledger

    @property
    def identity(self) -> AgencyIdentity:
        """The agency."""
        return self.connector.identity

    @property
    def datasets(self) -> frozenset[str]:
        """The datasets it serves."""
        return self.connector.datasets

    @property
    def controlled(self) -> frozenset[str]:
        """The datasets it accepts measures on."""
        return self.ledger.controlled

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """See :meth:`connectors.sdk.Connector.fetch`."""
        return await self.connector.fetch(request)

    async def submit(self, order: MeasureOrder) -> MeasureReport:
        """See :meth:`connectors.control.ControlConnector.submit`."""
        return await self.ledger.submit(order)

    async def reports(self, measure_ids: Sequence[str]) -> list[MeasureReport]:
        """See :meth:`connectors.control.ControlConnector.reports`."""
        return await self.ledger.reports(measure_ids)

    def close(self) -> None:
        """Close both halves."""
        close = getattr(self.connector, "close", None)
        if close is not None:
            close()
        self.ledger.close()

    async def aclose(self) -> None:
        """Close both halves off the event loop."""
        close = getattr(self.connector, "aclose", None)
        if close is not None:
            await close()
        await self.ledger.aclose()
