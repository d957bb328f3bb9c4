"""The subject of a query (a person or an organisation) and its validation.

Identifiers are checked with python-stdnum, never with a hand-written checksum:
``stdnum.cn.ric`` for resident ID numbers, ``stdnum.cn.uscc`` for unified social
credit codes.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import Literal

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from connectors.errors import InvalidSubject

__all__ = ["IdType", "Subject", "parse_subject"]

IdType = Literal["resident_id", "uscc"]
_ID_TYPES: tuple[IdType, ...] = ("resident_id", "uscc")
_MAX_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Subject:
    """Whom a query is about. Instances are always valid: construction validates.

    Attributes:
        id_type: ``"resident_id"`` (居民身份证号码) or ``"uscc"`` (统一社会信用代码).
        id_number: The identifier in compact form (no spaces, upper case).
        name: The name as written on the legal document, if known.

    Raises:
        InvalidSubject: on construction, when a part is invalid.
    """

    id_type: IdType
    id_number: str
    name: str | None = None

    def __post_init__(self) -> None:
        if self.id_type not in _ID_TYPES:
            raise InvalidSubject("id_type", f"must be one of {', '.join(_ID_TYPES)}")
        if self.id_type == "resident_id":
            _check_resident_id(self.id_number)
        else:
            _check_uscc(self.id_number)
        if self.name is not None and not (0 < len(self.name) <= _MAX_NAME_LENGTH):
            raise InvalidSubject("name", f"must have 1 to {_MAX_NAME_LENGTH} characters")

    @classmethod
    def resident(cls, id_number: str, name: str | None = None) -> Subject:
        """A natural person identified by a resident ID number (居民身份证号码)."""
        return parse_subject("resident_id", id_number, name)

    @classmethod
    def organisation(cls, code: str, name: str | None = None) -> Subject:
        """An organisation identified by its unified social credit code."""
        return parse_subject("uscc", code, name)

    def to_json(self) -> dict[str, str | None]:
        """A plain dict for JSON encoding."""
        return {"id_type": self.id_type, "id_number": self.id_number, "name": self.name}


def parse_subject(id_type: str, id_number: str, name: str | None = None) -> Subject:
    """Normalise and validate caller input into a Subject.

    Args:
        id_type: ``"resident_id"`` or ``"uscc"``.
        id_number: The identifier; separators and surrounding spaces are removed.
        name: Optional name; surrounding spaces are removed, blank means unknown.

    Returns:
        The validated Subject.

    Raises:
        InvalidSubject: naming ``id_type``, ``id_number`` or ``name``.
    """
    if id_type not in _ID_TYPES:
        raise InvalidSubject("id_type", f"must be one of {', '.join(_ID_TYPES)}")
    spaced_out = "".join(id_number.split())  # ric.compact keeps inner spaces.
    compact = ric.compact(spaced_out) if id_type == "resident_id" else uscc.compact(spaced_out)
    clean_name = name.strip() if name is not None else None
    return Subject(id_type, compact, clean_name or None)


def _check_resident_id(number: str) -> None:
    if number != ric.compact(number):
        raise InvalidSubject("id_number", "must be in compact form (18 characters, no spaces)")
    # The same checks as ric.validate, in its order, from stdnum's own parts: the
    # region look-up (a scan of stdnum's region table, ~100 µs) is cached per
    # (region, birth year), which makes bulk list look-ups ~20 times faster.
    if len(number) != 18:
        raise InvalidSubject("id_number", _reason(InvalidLength()))
    if not number[:-1].isdigit() or not number[:-1].isascii():
        raise InvalidSubject("id_number", _reason(InvalidFormat()))
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidSubject("id_number", _reason(InvalidChecksum()))
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise InvalidSubject("id_number", "birth date is not a real date") from None
    if born > datetime.date.today():
        raise InvalidSubject("id_number", "birth date is in the future")
    region = number[:6]
    if not _region_in_force(region, born.year) and not _is_known_region(region):
        raise InvalidSubject("id_number", "unknown region code")


@functools.lru_cache(maxsize=8192)
def _region_in_force(region: str, year: int) -> bool:
    """Whether stdnum's region table has ``region`` in force in ``year``."""
    try:
        ric.get_birth_place(f"{region}{year:04d}01010000")
    except ValidationError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def _is_known_region(code: str) -> bool:
    """Whether stdnum knows the region code at all, in any year.

    stdnum.cn.ric rejects a region code unless it existed in the holder's birth
    year, and its table starts in 1983; but codes were assigned when the holder
    first registered, so everyone born in Jiaozuo before 1983 would be refused.
    """
    found = numdb.get("cn/loc").info(code)
    return any("county" in props for _, props in found)


def _check_uscc(code: str) -> None:
    if code != uscc.compact(code):
        raise InvalidSubject("id_number", "must be in compact form (18 characters, no spaces)")
    try:
        uscc.validate(code)
    except ValidationError as exc:
        raise InvalidSubject("id_number", _reason(exc)) from None


def _reason(exc: ValidationError) -> str:
    if isinstance(exc, InvalidLength):
        return "must be 18 characters"
    if isinstance(exc, InvalidFormat):
        return "contains characters not allowed here"
    if isinstance(exc, InvalidChecksum):
        return "wrong check digit"
    return "invalid"
