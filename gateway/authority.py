"""The legal-authority check: no case, no open case, no assignment, no respondent, no data.

Before any agency is asked (DESIGN.md §3 step 4) the gateway checks that the
identifiers are valid (python-stdnum, through the SDK's subject parsing), that
the case exists and is open, that the caller is an officer of its court
assigned to it, and that the subject is one of its respondents. A refusal is
recorded on the request's AccessRecord (``refused`` = a reason code) so that
the audit log keeps the attempt, and raised as a typed error whose message
tells the officer what to do.
"""

from __future__ import annotations

import asyncio
import datetime
import re
from dataclasses import dataclass
from typing import Protocol

from connectors.sdk import LegalAuthority, Subject
from gateway.auth.principal import Role
from gateway.case_store import Case, Respondent
from gateway.context import RequestContext
from gateway.db import run_read
from gateway.errors import BadUserInput, CredgateError, Forbidden, NotFound
from gateway.field_policy import AccessContext

__all__ = [
    "Authority",
    "authorize_investigation",
    "check_authority",
    "load_case",
    "parse_case_number",
]

# (year)court code + case type + sequence 号, e.g. (2024)豫0823执1234号, (2023)最高法执监12号.
_CASE_NUMBER = re.compile(
    r"^\((?:19|20)\d{2}\)[\u4e00-\u9fff]{1,3}\d{0,4}[\u4e00-\u9fff]{1,4}\d{1,6}号$"
)
_FULL_WIDTH = str.maketrans({"（": "(", "）": ")"})


class SubjectSource(Protocol):
    """Caller input naming a subject (``gateway.schema.subject.SubjectInput``)."""

    def to_subject(self, field: str = "subject") -> Subject:
        """The validated subject; ``BadUserInput`` naming ``field`` or its part."""
        ...


@dataclass(frozen=True)
class Authority:
    """The established authority of one investigation: case, subject, officer."""

    case: Case
    subject: Subject
    respondent: Respondent
    officer_id: str
    checked_at: datetime.datetime

    def legal_authority(self) -> LegalAuthority:
        """What each agency is told about the authority it is asked on."""
        return LegalAuthority(
            case_number=self.case.case_number,
            court_id=self.case.court.id,
            officer_id=self.officer_id,
            document=f"{self.case.document.type} {self.case.document.number}",
        )

    def access_context(self) -> AccessContext:
        """The facts field policies decide on."""
        return AccessContext(
            # A terminated (终本) case is open to inquiry: the court must re-query assets.
            case_open=self.case.allows_inquiry,
            officer_assigned=self.case.is_assigned(self.officer_id),
            subject_is_respondent=True,
            request_time=self.checked_at,
            document_type=self.case.document.type,
            document_valid=self.case.document.valid_on(self.checked_at.date()),
            case_court=self.case.court.id,
        )


def parse_case_number(value: str, field: str = "caseNumber") -> str:
    """Normalise a case number (full-width brackets, spaces) and check its form.

    Raises:
        BadUserInput: naming ``field``, when it is not in the form ``(2024)豫0823执1234号``.
    """
    number = "".join(value.split()).translate(_FULL_WIDTH)
    if not _CASE_NUMBER.match(number):
        raise BadUserInput(
            "The case number must look like (2024)豫0823执1234号: year in brackets, "
            "court code, case type, sequence number, 号.",
            field=field,
        )
    return number


async def authorize_investigation(
    context: RequestContext, case_number: str, subject: SubjectSource
) -> Authority:
    """Validate the caller's input, then :func:`check_authority` while the intent is written.

    The intent may still be on its way when this returns: ``before_fanout``
    waits for it, and for its failure (fail closed).

    Raises:
        BadUserInput: an invalid case number or subject (recorded as refused).
        NotFound: no such case.
        Forbidden: see :func:`check_authority`.
    """
    try:
        number = parse_case_number(case_number)
        chosen = subject.to_subject()
    except BadUserInput:
        context.access.record.refused = BadUserInput.code
        raise
    record = context.access.record
    record.case_number = number
    record.subjects = [chosen.id_number]
    # The intent (who asks about whom, under which case, for which fields) is
    # committed while the case is looked up and the fields are decided and
    # planned: its fsync overlaps that work, and the fan-out waits for it
    # (``before_fanout``). A refusal waits for it here, so the attempt is on
    # record before the refusal is answered.
    intent = context.access.start_intent()
    try:
        return await check_authority(context, number, chosen)
    except Exception:
        await asyncio.gather(intent, return_exceptions=True)
        raise


async def load_case(context: RequestContext, case_number: str) -> Case | None:
    """The case, loaded once per request (cached in ``context.memo``)."""
    key = f"case:{case_number}"
    if key not in context.memo:
        context.memo[key] = await run_read(
            context.services.engine, context.services.cases.case, case_number
        )
    case: Case | None = context.memo[key]
    return case


async def check_authority(context: RequestContext, case_number: str, subject: Subject) -> Authority:
    """Establish the authority to investigate ``subject`` under ``case_number``.

    Fills the case and subject facts of ``context.access.record``; on refusal also
    ``refused`` with the reason code, before raising.

    Raises:
        NotFound: no such case.
        Forbidden: the case is closed, belongs to another court, the caller is not
            an officer assigned to it, or the subject is not one of its respondents.
    """
    record = context.access.record
    record.case_number = case_number
    record.subjects = [subject.id_number]
    try:
        case = await load_case(context, case_number)
        if case is None:
            raise _Refusal("CASE_NOT_FOUND", NotFound, _UNKNOWN_CASE.format(number=case_number))
        record.court_id = case.court.id
        record.document = f"{case.document.type} {case.document.number}"
        officer_id = _officer_of_case(context, case)
        respondent = context.services.cases.respondent(case, subject)
        if respondent is None:
            raise _Refusal("NOT_RESPONDENT", Forbidden, _NOT_RESPONDENT.format(number=case_number))
    except _Refusal as refusal:
        record.refused = refusal.reason
        raise refusal.error() from None
    now = datetime.datetime.now(datetime.UTC)
    return Authority(case, subject, respondent, officer_id, now)


def _officer_of_case(context: RequestContext, case: Case) -> str:
    """The caller's officer id, if the caller may act on the case at all."""
    principal = context.principal
    number = case.case_number
    if principal.role is not Role.OFFICER or principal.officer_id is None:
        raise _Refusal("NOT_AN_OFFICER", Forbidden, _NOT_OFFICER.format(role=principal.role.value))
    if not case.allows_inquiry:
        raise _Refusal("CASE_CLOSED", Forbidden, _CLOSED.format(number=number))
    if principal.court_id != case.court.id:
        message = _OTHER_COURT.format(number=number, court=case.court.name)
        raise _Refusal("OTHER_COURT", Forbidden, message)
    if not case.is_assigned(principal.officer_id):
        raise _Refusal("NOT_ASSIGNED", Forbidden, _NOT_ASSIGNED.format(number=number))
    return principal.officer_id


class _Refusal(Exception):
    """A refusal: the reason code to record and the error the caller sees.

    The error carries the reason as ``extensions.reason`` too, so a client can
    tell a closed case from a missing assignment without parsing the message.
    """

    def __init__(self, reason: str, kind: type[CredgateError], message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self._kind = kind
        self._message = message

    def error(self) -> CredgateError:
        """The error to raise; made here, so that it and the refusal hold no cycle."""
        return self._kind(self._message, reason=self.reason)


_UNKNOWN_CASE = (
    "No case {number} is on record. Check the number against the case file; if it is "
    "right, ask your court's case administrator to import the case."
)
_CLOSED = (
    "Case {number} is closed, so no investigation can be made under it. If enforcement "
    "has resumed, ask your court's case administrator to reopen it."
)
_OTHER_COURT = (
    "Case {number} belongs to {court}, not to your court: only officers of that court "
    "can investigate under it."
)
_NOT_ASSIGNED = (
    "You are not assigned to case {number}. Ask the presiding officer or your court's "
    "case administrator to add you to the case."
)
_NOT_RESPONDENT = (
    "This subject is not a respondent of case {number}. Investigate only the judgment "
    "debtors named in the case; if one is missing, have the case record corrected."
)
_NOT_OFFICER = "Only enforcement officers can investigate; this token belongs to a {role} client."
