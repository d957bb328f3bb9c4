"""Control measures, case claims and investigated assets: the one module that talks SQL for them.

``measures`` holds one row per measure with its current state (the history is
in the audit log). Personal data stays out of the clear, as in the case store:
the subject and the asset's key (an account number) are kept as AES-256-GCM
ciphertext under a key derived for this store, and compared only through keyed
HMAC references (``subject_index``, ``asset_ref``).

``investigated_assets`` remembers, per case and subject, keyed references of the
assets an investigation returned, so a measure can be refused on an asset the
officer never found. ``case_enforcement`` holds what enforcing a case is about:
the claim outstanding and the presiding officer (承办人).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    and_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from gateway.case_store import case_officers
from gateway.db import metadata, read_connection
from gateway.keys import KeySet

__all__ = [
    "ACTIVE_PLACEMENT",
    "ACTIVE_STATUSES",
    "AssetUnderMeasure",
    "CaseEnforcement",
    "MeasureRow",
    "MeasureStore",
    "case_enforcement",
    "investigated_assets",
    "measures",
]

_PURPOSE = b"credgate/measures/v1"
_PLACING = ("freeze", "seal_up", "freeze_equity")
_NONCE = 12
#: A placement in force, or about to be (the agency accepted it).
ACTIVE_STATUSES = ("submitted", "accepted", "executed")
#: The rows of placements in force or pending: at most one per asset (the unique
#: partial index ``uq_measures_active_placement``, migration 0009_measures_unique).
#: Spelled out in SQL because the index's predicate must be the migration's, verbatim.
ACTIVE_PLACEMENT = (
    "kind IN ('freeze', 'seal_up', 'freeze_equity') "
    "AND status IN ('submitted', 'accepted', 'executed')"
)

measures = Table(
    "measures",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("request_digest", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("case_number", String(64), ForeignKey("cases.case_number"), nullable=False),
    Column("court_id", String(64), nullable=False),
    Column("officer_id", String(64), nullable=False),
    Column("subject_index", String(64), nullable=False),
    Column("subject_sealed", LargeBinary, nullable=False),
    Column("agency_id", String(64), nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("asset_ref", String(64), nullable=False),
    Column("asset_sealed", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_cents", BigInteger),
    Column("amount_cents", BigInteger),
    Column("until", Date),
    Column("agency_reference", String(64)),
    Column("reason", String(200)),
    Column("ruling_number", String(128), nullable=False),
    Column("ruling_date", Date, nullable=False),
    Column("notice_number", String(128), nullable=False),
    Column("notice_date", Date, nullable=False),
    Column("acts_on", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_measures_case_status_until", "case_number", "status", "until"),
    Index("ix_measures_asset_ref", "asset_ref"),
    Index("ix_measures_status_updated", "status", "updated_at"),
    # Two placements on one asset can never both be pending or in force, however
    # concurrent the orders: the database refuses the second insert.
    Index(
        "uq_measures_active_placement",
        "asset_ref",
        unique=True,
        sqlite_where=text(ACTIVE_PLACEMENT),
        postgresql_where=text(ACTIVE_PLACEMENT),
    ),
)

investigated_assets = Table(
    "investigated_assets",
    metadata,
    Column("ref", String(64), primary_key=True),
    Column("case_number", String(64), ForeignKey("cases.case_number"), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

# Built once: every investigation asks it, and building the statement cost more than
# running it (an expanding parameter keeps one compiled form for any number of refs).
_KNOWN_REFS = select(investigated_assets.c.ref).where(
    investigated_assets.c.ref.in_(bindparam("refs", expanding=True))
)

case_enforcement = Table(
    "case_enforcement",
    metadata,
    Column("case_number", String(64), ForeignKey("cases.case_number"), primary_key=True),
    Column("claim_cents", BigInteger, nullable=False),
    Column("presiding_officer_id", String(64)),
)


class AssetUnderMeasure(Exception):
    """A placement was refused by the database: another is pending or in force on the asset.

    Attributes:
        existing: That measure (``None`` if it was lifted between the refusal and the look-up).
    """

    def __init__(self, existing: MeasureRow | None) -> None:
        super().__init__(existing.id if existing else "an active placement")
        self.existing = existing


@dataclass(frozen=True)
class CaseEnforcement:
    """What enforcing a case is about: the claim (in cents) and its presiding officer."""

    case_number: str
    claim_cents: int
    presiding_officer_id: str | None


@dataclass(frozen=True)
class MeasureRow:
    """One measure as stored, with its subject and asset key opened."""

    id: str
    request_digest: str
    kind: str
    case_number: str
    court_id: str
    officer_id: str
    subject_index: str
    subject_id: str
    subject_type: str
    agency_id: str
    dataset: str
    asset_ref: str
    asset_key: str
    status: str
    requested_cents: int | None
    amount_cents: int | None
    until: datetime.date | None
    agency_reference: str | None
    reason: str | None
    ruling_number: str
    ruling_date: datetime.date
    notice_number: str
    notice_date: datetime.date
    acts_on: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime


class MeasureStore:
    """SQL access to measures, investigated assets and case claims.

    Args:
        engine: The gateway's engine.
        index_key: The blind-index key (HMAC references).
        encryption_key: The subject-encryption key (a store key is derived from it).
    """

    def __init__(self, engine: Engine, index_key: bytes, encryption_key: bytes) -> None:
        self.engine = engine
        self._index_key = index_key
        derived = HKDF(hashes.SHA256(), 32, salt=None, info=_PURPOSE).derive(encryption_key)
        self._aead = AESGCM(derived)
        self._recorded = _RecordedRefs(RECORDED_REFS_KEPT)

    @classmethod
    def from_keys(cls, engine: Engine, keys: KeySet) -> MeasureStore:
        """The store of a deployment."""
        return cls(engine, keys.blind_index_key, keys.subject_encryption_key)

    # -- references and sealing ---------------------------------------------

    def ref(self, *parts: str) -> str:
        """A keyed reference (HMAC-SHA256, hex) of ``parts``; never reversible without the key."""
        message = "\x1f".join(parts).encode()
        return hmac.digest(self._index_key, message, hashlib.sha256).hex()

    def asset_ref(self, agency_id: str, dataset: str, key: str) -> str:
        """The reference of one asset at one agency."""
        return self.ref("asset", agency_id, dataset, key)

    def found_ref(self, case_number: str, subject_index: str, asset_ref: str) -> str:
        """The reference of "this case's investigation of this subject returned this asset"."""
        return self.ref("found", case_number, subject_index, asset_ref)

    def _seal(self, value: str, bound_to: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, value.encode(), bound_to.encode())

    def _open(self, sealed: bytes, bound_to: str) -> str:
        return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], bound_to.encode()).decode()

    # -- investigated assets --------------------------------------------------

    def remember_assets(self, case_number: str, refs: Iterable[str]) -> None:
        """Record that an investigation under ``case_number`` returned these assets."""
        now = datetime.datetime.now(datetime.UTC)
        wanted = sorted(set(refs))
        if not wanted:
            return
        with self.engine.begin() as connection:
            known = set(
                connection.execute(
                    select(investigated_assets.c.ref).where(investigated_assets.c.ref.in_(wanted))
                ).scalars()
            )
            fresh = [r for r in wanted if r not in known]
            if fresh:
                connection.execute(
                    insert(investigated_assets),
                    [{"ref": r, "case_number": case_number, "seen_at": now} for r in fresh],
                )
        self._recorded.add(wanted)

    def not_known_here(self, refs: Iterable[str]) -> list[str]:
        """The references among ``refs`` this process has not seen recorded (no I/O).

        Rows of ``investigated_assets`` are never deleted, so a reference once
        seen recorded stays recorded; the rest may still be, by another process.
        """
        return self._recorded.missing(refs)

    def unknown_refs(self, refs: Iterable[str]) -> list[str]:
        """The references among ``refs`` not yet recorded (a read: no write lock)."""
        wanted = sorted(set(refs))
        if not wanted:
            return []
        with read_connection(self.engine) as connection:
            known = set(connection.execute(_KNOWN_REFS, {"refs": wanted}).scalars())
        self._recorded.add(known)
        return [ref for ref in wanted if ref not in known]

    def was_found(self, found_ref: str) -> bool:
        """Whether an investigation returned the asset (see :meth:`found_ref`)."""
        with read_connection(self.engine) as connection:
            row = connection.execute(
                select(investigated_assets.c.ref).where(investigated_assets.c.ref == found_ref)
            ).first()
        return row is not None

    # -- case claims ------------------------------------------------------------

    def set_enforcement(self, entry: CaseEnforcement) -> None:
        """Record (or replace) the claim and presiding officer of a case."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(case_enforcement)
                .where(case_enforcement.c.case_number == entry.case_number)
                .values(
                    claim_cents=entry.claim_cents,
                    presiding_officer_id=entry.presiding_officer_id,
                )
            )
            if done.rowcount == 0:
                connection.execute(insert(case_enforcement).values(**entry.__dict__))

    def enforcement(self, case_number: str) -> CaseEnforcement | None:
        """The claim and presiding officer of a case, if recorded."""
        with read_connection(self.engine) as connection:
            row = connection.execute(
                select(case_enforcement).where(case_enforcement.c.case_number == case_number)
            ).first()
        if row is None:
            return None
        return CaseEnforcement(row.case_number, int(row.claim_cents), row.presiding_officer_id)

    def deducted_cents(self, case_number: str) -> int:
        """What deductions under a case have taken or may still take (not rejected)."""
        c = measures.c
        with read_connection(self.engine) as connection:
            value = connection.execute(
                select(func.coalesce(func.sum(func.coalesce(c.amount_cents, c.requested_cents)), 0))
                .where(c.case_number == case_number, c.kind == "deduct")
                .where(c.status.in_(ACTIVE_STATUSES))
            ).scalar_one()
        return int(value)

    def deducted_from(self, measure_id: str) -> int:
        """What deductions from one freeze have taken or may still take."""
        c = measures.c
        with read_connection(self.engine) as connection:
            value = connection.execute(
                select(func.coalesce(func.sum(func.coalesce(c.amount_cents, c.requested_cents)), 0))
                .where(c.acts_on == measure_id, c.kind == "deduct")
                .where(c.status.in_(ACTIVE_STATUSES))
            ).scalar_one()
        return int(value)

    # -- measures -----------------------------------------------------------------

    def insert(self, row: MeasureRow) -> MeasureRow | None:
        """Store a new measure; ``None`` if its id is taken (an idempotent retry or a clash).

        Raises:
            AssetUnderMeasure: the row places a measure on an asset that already
                carries one pending or in force (the unique partial index decides,
                so two concurrent orders cannot both pass).
        """
        values = {
            k: v
            for k, v in row.__dict__.items()
            if k not in ("subject_id", "subject_type", "asset_key")
        }
        values["subject_sealed"] = self._seal(f"{row.subject_type}:{row.subject_id}", row.id)
        values["asset_sealed"] = self._seal(row.asset_key, row.id)
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(measures).values(**values))
        except IntegrityError:
            if self.get(row.id) is not None:
                return None
            if row.kind in _PLACING:
                raise AssetUnderMeasure(self._placement_on(row.asset_ref, _PLACING)) from None
            raise
        return row

    def update(self, row: MeasureRow, **changes: Any) -> MeasureRow:
        """Change a measure's state (status, amount, reference ...) and return it changed."""
        now = datetime.datetime.now(datetime.UTC)
        with self.engine.begin() as connection:
            connection.execute(
                update(measures).where(measures.c.id == row.id).values(**changes, updated_at=now)
            )
        return replace(row, **changes, updated_at=now)

    def get(self, measure_id: str) -> MeasureRow | None:
        """One measure, or ``None``."""
        with read_connection(self.engine) as connection:
            row = connection.execute(select(measures).where(measures.c.id == measure_id)).first()
        return None if row is None else self._row(row)

    def active_on_asset(self, asset_ref: str, kinds: Sequence[str]) -> MeasureRow | None:
        """The placement in force (or pending) on an asset, if any."""
        return self._placement_on(asset_ref, kinds)

    def _placement_on(self, asset_ref: str, kinds: Sequence[str]) -> MeasureRow | None:
        c = measures.c
        with read_connection(self.engine) as connection:
            row = connection.execute(
                select(measures)
                .where(c.asset_ref == asset_ref, c.kind.in_(list(kinds)))
                .where(c.status.in_(ACTIVE_STATUSES))
                .order_by(c.created_at)
                .limit(1)
            ).first()
        return None if row is None else self._row(row)

    def of_officer(self, officer_id: str, case_number: str | None, limit: int) -> list[MeasureRow]:
        """Measures on the cases an officer is assigned to, newest first."""
        query = select(measures).where(measures.c.case_number.in_(_cases_of(officer_id)))
        if case_number is not None:
            query = query.where(measures.c.case_number == case_number)
        query = query.order_by(measures.c.created_at.desc(), measures.c.id).limit(limit)
        with read_connection(self.engine) as connection:
            return [self._row(row) for row in connection.execute(query)]

    def expiring(
        self, officer_id: str, first_day: datetime.date, last_day: datetime.date, limit: int
    ) -> list[MeasureRow]:
        """Placements in force on the officer's cases whose last day is within the window."""
        c = measures.c
        query = (
            select(measures)
            .where(c.case_number.in_(_cases_of(officer_id)))
            .where(c.status == "executed", and_(c.until >= first_day, c.until <= last_day))
            .order_by(c.until, c.id)
            .limit(limit)
        )
        with read_connection(self.engine) as connection:
            return [self._row(row) for row in connection.execute(query)]

    def pending(self, limit: int) -> list[MeasureRow]:
        """Measures the agency has yet to answer or execute, least recently updated first."""
        c = measures.c
        query = (
            select(measures)
            .where(c.status.in_(("submitted", "accepted")))
            .order_by(c.updated_at, c.id)
            .limit(limit)
        )
        with read_connection(self.engine) as connection:
            return [self._row(row) for row in connection.execute(query)]

    def lapsed(self, day: datetime.date, limit: int) -> list[MeasureRow]:
        """Placements still marked in force whose last day is before ``day``."""
        c = measures.c
        query = (
            select(measures)
            .where(c.status == "executed", c.until < day)
            .order_by(c.until, c.id)
            .limit(limit)
        )
        with read_connection(self.engine) as connection:
            return [self._row(row) for row in connection.execute(query)]

    def claim_for_update(self, measure_id: str, seen: datetime.datetime) -> bool:
        """Take a measure for one refresh round: only one gateway instance wins it.

        The row's ``updated_at`` is compared and bumped in one statement, so two
        instances refreshing at once never both report the same agency answer.
        """
        now = datetime.datetime.now(datetime.UTC)
        with self.engine.begin() as connection:
            done = connection.execute(
                update(measures)
                .where(measures.c.id == measure_id, measures.c.updated_at == seen)
                .values(updated_at=now)
            )
        return done.rowcount == 1

    def _row(self, row: Any) -> MeasureRow:
        subject = self._open(bytes(row.subject_sealed), row.id)
        id_type, _, id_number = subject.partition(":")
        return MeasureRow(
            id=row.id,
            request_digest=row.request_digest,
            kind=row.kind,
            case_number=row.case_number,
            court_id=row.court_id,
            officer_id=row.officer_id,
            subject_index=row.subject_index,
            subject_id=id_number,
            subject_type=id_type,
            agency_id=row.agency_id,
            dataset=row.dataset,
            asset_ref=row.asset_ref,
            asset_key=self._open(bytes(row.asset_sealed), row.id),
            status=row.status,
            requested_cents=row.requested_cents,
            amount_cents=row.amount_cents,
            until=row.until,
            agency_reference=row.agency_reference,
            reason=row.reason,
            ruling_number=row.ruling_number,
            ruling_date=row.ruling_date,
            notice_number=row.notice_number,
            notice_date=row.notice_date,
            acts_on=row.acts_on,
            created_at=_aware(row.created_at),
            updated_at=_aware(row.updated_at),
        )


def _cases_of(officer_id: str) -> Any:
    """The case numbers an officer is assigned to, as a subquery.

    An ``IN`` subquery rather than a join: SQLite (without statistics) would
    otherwise walk every measure of a status; this way it looks up the officer's
    few cases and, for each, its measures by (case, status, last day).
    """
    return select(case_officers.c.case_number).where(case_officers.c.officer_id == officer_id)


def _aware(moment: datetime.datetime) -> datetime.datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


#: Investigated-asset references remembered as recorded, per process (~150 bytes each).
RECORDED_REFS_KEPT = 65_536


class _RecordedRefs:
    """A bounded set of references known to be in ``investigated_assets``.

    Investigations repeat, and each would otherwise ask the database whether the
    assets it returned are recorded (measured in the throughput bench: about 0.4 ms
    of the gateway's CPU per investigation, the largest cost credgate adds after the
    audit log). Forgetting is safe: a forgotten reference is only looked up again.
    The oldest half is dropped when full, so the set never grows past ``kept``.
    """

    def __init__(self, kept: int) -> None:
        self._kept = kept
        self._refs: dict[str, None] = {}
        self._lock = threading.Lock()

    def add(self, refs: Iterable[str]) -> None:
        with self._lock:
            for ref in refs:
                self._refs[ref] = None
            if len(self._refs) > self._kept:
                keep = list(self._refs)[len(self._refs) - self._kept // 2 :]
                self._refs = dict.fromkeys(keep)

    def missing(self, refs: Iterable[str]) -> list[str]:
        known = self._refs  # replaced, never mutated during a trim: a consistent view
        return [ref for ref in refs if ref not in known]
