"""Reading cases from JSON lines, as courts' case systems export them.

One case per line::

    {"case_number": "(2024)豫0823执1234号",
     "court": {"id": "court-wuzhi", "name": "武陟县人民法院"},
     "status": "open", "filed_on": "2024-03-01",
     "document": {"type": "assistance_inquiry_notice",
                  "number": "(2024)豫0823执1234号之一", "valid_until": "2024-12-31"},
     "officers": [{"id": "officer-wz-001", "name": "李建国"}],
     "respondents": [{"resident_id": "410823199001011234", "name": "张三"},
                     {"credit_code": "91410882164803724M", "name": "焦作市德润房地产开发有限公司"}]}

``status`` is ``open``, ``closed`` or ``terminated`` (终结本次执行程序: concluded,
but assets are still re-queried; ``terminated_on`` optional, today by default).
``document.valid_until``, officer and respondent names are optional. Keys may
also be spelled as the GraphQL API spells them (``caseNumber``, ``filedOn``,
``validUntil``, ``residentId``, ``creditCode``, ``terminatedOn``). A line
that breaks these rules is refused with the field at fault; identifiers are
validated like every other subject (python-stdnum, through the connector SDK).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from connectors.sdk import InvalidSubject, parse_subject
from gateway.authority import parse_case_number
from gateway.case_store import CaseEntry, Court, Document, Officer, Respondent
from gateway.errors import BadUserInput
from gateway.import_names import snake_case_keys

__all__ = ["CaseLineError", "parse_case_line"]

_STATUSES = ("open", "closed", "terminated")


class CaseLineError(ValueError):
    """A line that is not a valid case; ``field`` names the part at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse_case_line(line: str) -> CaseEntry:
    """One case from one JSON line.

    Raises:
        CaseLineError: the line is not JSON or does not describe a valid case.
    """
    try:
        data = json.loads(line)
    except ValueError:
        raise CaseLineError("line", "not valid JSON") from None
    body = _object(snake_case_keys(data), "line")  # GraphQL's camelCase names work too
    court = _object(body.get("court"), "court")
    document = _object(body.get("document"), "document")
    court_id = _text(court, "id", "court.id")
    try:
        number = parse_case_number(_text(body, "case_number", "case_number"), "case_number")
    except BadUserInput as error:
        raise CaseLineError("case_number", error.message) from None
    status = _text(body, "status", "status")
    if status not in _STATUSES:
        raise CaseLineError("status", "must be open, closed or terminated")
    return CaseEntry(
        case_number=number,
        court=Court(court_id, _text(court, "name", "court.name")),
        status="open" if status == "open" else "terminated" if status == "terminated" else "closed",
        terminated_on=_optional_date(body.get("terminated_on"), "terminated_on"),
        filed_on=_date(body.get("filed_on"), "filed_on"),
        document=Document(
            _text(document, "type", "document.type"),
            _text(document, "number", "document.number"),
            _optional_date(document.get("valid_until"), "document.valid_until"),
        ),
        officers=_officers(body.get("officers"), court_id),
        respondents=tuple(
            _respondent(r, f"respondents[{i}]")
            for i, r in enumerate(_objects(body.get("respondents"), "respondents"))
        ),
    )


def _officers(raw: object, court_id: str) -> tuple[Officer, ...]:
    return tuple(
        Officer(
            _text(o, "id", f"officers[{i}].id"),
            court_id,
            _optional_text(o, "name", f"officers[{i}].name"),
        )
        for i, o in enumerate(_objects(raw, "officers"))
    )


def _respondent(raw: Mapping[str, Any], where: str) -> Respondent:
    resident, code = raw.get("resident_id"), raw.get("credit_code")
    if (resident is None) == (code is None):
        raise CaseLineError(where, "give exactly one of resident_id and credit_code")
    id_type, key = (
        ("resident_id", "resident_id") if resident is not None else ("uscc", "credit_code")
    )
    number = _text(raw, key, f"{where}.{key}")
    name = _optional_text(raw, "name", f"{where}.name")
    try:
        subject = parse_subject(id_type, number, name)
    except InvalidSubject as error:
        part = key if error.field == "id_number" else error.field
        raise CaseLineError(f"{where}.{part}", error.reason) from None
    return Respondent(subject.id_type, subject.id_number, subject.name)


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CaseLineError(where, "must be an object")
    return value


def _objects(value: object, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not value:
        raise CaseLineError(where, "must be a non-empty list")
    return [_object(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CaseLineError(where, "must be a non-empty string")
    return value.strip()


def _optional_text(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    return None if raw.get(key) is None else _text(raw, key, where)


def _date(value: object, where: str) -> datetime.date:
    if not isinstance(value, str):
        raise CaseLineError(where, "must be a date (YYYY-MM-DD)")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CaseLineError(where, "must be a date (YYYY-MM-DD)") from None


def _optional_date(value: object, where: str) -> datetime.date | None:
    return None if value is None else _date(value, where)
