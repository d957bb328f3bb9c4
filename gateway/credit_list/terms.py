"""Listing terms of the dishonest-debtor list, and what ends an entry.

The 2017 provisions (最高人民法院关于公布失信被执行人名单信息的若干规定) fix how
long an entry stays on the list and how it leaves it:

* art. 2: a debtor listed for circumstances (2)-(6) of art. 1 stays two years;
  the term may be extended by one to three years when the debtor obstructed
  enforcement by violence or threats in a serious way, or has several
  circumstances of dishonesty. Circumstance (1), refusing to perform despite
  being able to, has no term: it lasts until the obligations are performed.
* art. 10: the cases in which the court deletes the entry (performed, settled,
  ...), and, once the term is over, deletion within three working days.
* art. 12: an entry made in error is revoked (撤销); a wrong record corrected.

Working days are counted Monday to Friday: no holiday calendar is kept (the
State Council's calendar changes every year), so a due date may fall on a
public holiday; the sweep removes an expired entry on the day its term ends,
well before any of these due dates.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from gateway.credit_list.labels import Circumstance, LabelledEnum

#: art. 2: the term of circumstances (2)-(6).
TERM_YEARS = 2
#: art. 2: an extension adds one to three years (in total, over every extension).
MAX_EXTENSION_YEARS = 3
#: art. 10: an expired entry leaves the list within three working days.
REMOVAL_WORKING_DAYS = 3


class RemovalKind(LabelledEnum):
    """Why an entry left the list (art. 10 and 12), each with its own date rule."""

    REVOKED = ("revoked", "错误纳入，撤销失信信息")
    IDENTITY_CORRECTED = ("identity_corrected", "身份信息错误，更正为新条目")
    PERFORMED = ("performed", "已履行生效法律文书确定的全部义务")
    SETTLEMENT_PERFORMED = ("settlement_performed", "执行和解协议经申请执行人确认履行完毕")
    APPLICANT_REQUEST = ("applicant_request", "申请执行人书面申请删除，经审查同意")
    NO_ASSETS_AFTER_TERMINATION = (
        "no_assets_after_termination",
        "终结本次执行程序后两次以上查询未发现可供执行财产",
    )
    ENFORCEMENT_SUSPENDED = ("enforcement_suspended", "因审判监督或破产程序裁定中止执行")
    NOT_ENFORCED = ("not_enforced", "裁定不予执行")
    ENFORCEMENT_TERMINATED = ("enforcement_terminated", "裁定终结执行")
    EXPIRED = ("expired", "失信期限届满")

    @property
    def is_deletion(self) -> bool:
        """Whether this is a deletion (art. 10), as opposed to a revocation or correction."""
        return self not in (RemovalKind.REVOKED, RemovalKind.IDENTITY_CORRECTED)


def add_years(day: datetime.date, years: int) -> datetime.date:
    """``day`` ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def term_years(circumstances: Sequence[Circumstance]) -> int | None:
    """The base term of an entry (art. 2): none when circumstance (1) is among them."""
    if Circumstance.REFUSES_DESPITE_ABILITY in circumstances:
        return None
    return TERM_YEARS


def expires_on(
    published_on: datetime.date, term: int | None, extended_years: int
) -> datetime.date | None:
    """The first day the entry is no longer in force (``None``: no term)."""
    if term is None:
        return None
    return add_years(published_on, term + extended_years)


def may_be_extended(circumstances: Sequence[Circumstance]) -> bool:
    """art. 2: serious obstruction (circumstance 2) or several circumstances."""
    return Circumstance.OBSTRUCTS_ENFORCEMENT in circumstances or len(circumstances) > 1


def working_days_after(day: datetime.date, count: int) -> datetime.date:
    """The ``count``-th working day (Monday to Friday) after ``day``; no holidays."""
    while count > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def removal_due_on(expiry: datetime.date | None) -> datetime.date | None:
    """The last day an expired entry may still be shown (art. 10: three working days)."""
    return None if expiry is None else working_days_after(expiry, REMOVAL_WORKING_DAYS)
