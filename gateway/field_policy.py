"""The seam between the federation and the policy engine: who may see which field.

The federation asks one question per request, before any agency is called:
"for this principal, in this context, how may each of these fields be shown?"
The Cedar engine (``gateway.policy``) answers it; the federation only applies
the answer (full value, masked value, or denied), so no resolver decides access.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple, Protocol

from gateway.auth.principal import Principal


class Visibility(StrEnum):
    """How a field may be shown."""

    READ = "read"  # the full value
    MASKED = "masked"  # the value through the field's mask
    DENIED = "denied"  # null, with a FORBIDDEN error


class FieldRef(NamedTuple):
    """One field of one agency's dataset, e.g. ("bank", "bank.accounts", "balance").

    A named tuple rather than a frozen dataclass: every request looks up some
    sixty of these in the decision cache and the decisions, and a tuple hashes
    and compares in C where a dataclass runs generated Python for each.
    """

    agency_kind: str
    dataset: str
    name: str


@dataclass(frozen=True)
class FieldDecision:
    """The decision on one field and the ids of the policies that made it.

    ``max_record_age_days`` bounds, for time-stamped datasets (lodging records),
    how old a record may be: the federation narrows the query sent to the agency
    to that window, so older records are never requested, let alone shown.
    """

    visibility: Visibility
    policy_ids: tuple[str, ...] = ()
    max_record_age_days: int | None = None


@dataclass(frozen=True)
class AccessContext:
    """The facts of the request that policies may depend on (DESIGN.md §6).

    Attributes:
        case_open: the case invoked is open.
        officer_assigned: the caller is an officer assigned to that case.
        subject_is_respondent: the subject is a respondent of that case.
        document_type: the kind of legal document invoked (e.g. 协助查询通知书).
        document_valid: the document has not expired.
        request_time: when the request was made (UTC).
        case_court: the court the case belongs to; policies forbid an officer
            of another court (``gateway.officer-of-another-court``).
        extra: further typed facts for later policies (e.g. record dates).
    """

    case_open: bool
    officer_assigned: bool
    subject_is_respondent: bool
    request_time: datetime
    document_type: str = "assistance_inquiry_notice"
    document_valid: bool = True
    case_court: str | None = None
    extra: Mapping[str, str | int | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class ControlDecision:
    """Whether a control measure on a dataset is permitted, and the policies that decided."""

    allowed: bool
    policy_ids: tuple[str, ...] = ()


class FieldPolicy(Protocol):
    """Decides, in one batch, how each requested field may be shown."""

    policy_set_hash: str

    def decide(
        self, principal: Principal, context: AccessContext, fields: Sequence[FieldRef]
    ) -> Mapping[FieldRef, FieldDecision]:
        """Decide every field; a field missing from the answer counts as denied."""
        ...

    def decide_control(
        self, principal: Principal, context: AccessContext, dataset: str
    ) -> ControlDecision:
        """Decide the ``control`` action on a dataset (facts of the measure in ``extra``)."""
        ...
