"""The law's limits on control measures, checked in one place.

- Periods (SPC interpretation of the Civil Procedure Law, art. 487): a freeze of
  deposits at most 1 year, a seal of movables 2 years, of real estate and other
  property rights 3 years; a renewal (续行冻结/续封) may again last that long,
  counted from when it is ordered, and must come before the measure expires.
- A deduction (扣划) takes at most what the freeze still holds and at most the
  case's outstanding claim.
- Measures are taken on open cases, under a ruling (裁定书) and an assistance
  notice (协助执行通知书), neither dated in the future.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from connectors.control import ControlledDataset
from gateway.measures.errors import (
    AmountOverLimit,
    MeasureNotInForce,
    PeriodOverLimit,
    RulingRequired,
)

__all__ = [
    "check_deduction",
    "check_documents",
    "check_renewal",
    "placement_until",
    "yuan",
]


def yuan(cents: int) -> str:
    """Cents as a two-decimal amount in yuan."""
    return f"{Decimal(cents) / 100:.2f}"


def check_documents(
    ruling_date: datetime.date | None, notice_date: datetime.date | None, today: datetime.date
) -> None:
    """Both documents named and not dated after today.

    Raises:
        RulingRequired: naming the missing or misdated document.
    """
    if ruling_date is None:
        raise RulingRequired(
            "A measure needs its ruling (裁定书): number and date.", field="ruling"
        )
    if notice_date is None:
        raise RulingRequired(
            "A measure needs its assistance notice (协助执行通知书): number and date.",
            field="notice",
        )
    if ruling_date > today or notice_date > today:
        raise RulingRequired("A ruling or notice cannot be dated in the future.", field="ruling")
    if notice_date < ruling_date:
        raise RulingRequired("The notice cannot predate the ruling it serves.", field="notice")


def placement_until(
    controlled: ControlledDataset, until: datetime.date | None, today: datetime.date
) -> datetime.date:
    """The last day of a placement or renewal ordered today: as asked, or the longest allowed.

    Raises:
        PeriodOverLimit: ``until`` is past the longest period, or not after today.
    """
    days = controlled.spec.max_period_days
    latest = today + datetime.timedelta(days=days)
    if until is None:
        return latest
    if until <= today:
        raise PeriodOverLimit("The last day of a measure must be after today.", limit=str(latest))
    if until > latest:
        raise PeriodOverLimit(
            f"A measure on {controlled.asset_class.replace('_', ' ')} lasts at most {days} days "
            f"(SPC interpretation of the Civil Procedure Law, art. 487): until {latest} at the "
            "latest; renew it before it expires to go on.",
            limit=str(latest),
        )
    return until


def check_renewal(
    current_until: datetime.date | None, new_until: datetime.date, today: datetime.date
) -> None:
    """A renewal comes before expiry and extends the period.

    Raises:
        MeasureNotInForce: the measure has expired.
        PeriodOverLimit: the new last day does not extend the period.
    """
    if current_until is None or current_until < today:
        raise MeasureNotInForce(
            "The measure has expired; it can no longer be renewed. Order a new one.",
            reason="EXPIRED",
        )
    if new_until <= current_until:
        raise PeriodOverLimit(
            f"A renewal must extend the period beyond {current_until}.", limit=str(current_until)
        )


def check_deduction(amount_cents: int, frozen_left_cents: int, claim_left_cents: int) -> None:
    """A deduction within what the freeze holds and what the case still claims.

    Raises:
        AmountOverLimit: with the largest amount allowed as ``limit``.
    """
    limit = min(frozen_left_cents, claim_left_cents)
    if amount_cents > limit:
        which = "the amount frozen" if frozen_left_cents <= claim_left_cents else "the claim"
        raise AmountOverLimit(
            f"A deduction may take at most {yuan(limit)} yuan here ({which} outstanding).",
            limit=yuan(limit),
        )
