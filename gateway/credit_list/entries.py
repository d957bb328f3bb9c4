"""Entries of the dishonest-debtor list (失信被执行人名单) and their validation.

The fields are the ones the Supreme People's Court's provisions on publishing
the list name (最高人民法院关于公布失信被执行人名单信息的若干规定, 2017, art. 1
and 6): who the debtor is, the enforcement case and court, the enforcement basis,
the obligations and how far they were performed, the circumstance of dishonesty
and the publication date. The same parser serves the GraphQL mutations and the
bulk import, so both refuse the same things with the same field names.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Self, cast

from connectors.errors import InvalidSubject
from connectors.subject import Subject, parse_subject
from gateway.errors import BadUserInput

MAX_TEXT = 2000
MAX_SHORT_TEXT = 128


class LabelledEnum(Enum):
    """An enum whose values are snake_case names, each with its Chinese legal label."""

    label: str

    def __new__(cls, value: str, label: str) -> LabelledEnum:
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def of(cls, value: str) -> Self:
        """The member with this stored value (``KeyError`` if none)."""
        return cast(Self, cls._value2member_map_[value])

    @classmethod
    def parse(cls, text: object, field: str) -> Self:
        """The member named by its value, its NAME or its Chinese label.

        Raises:
            BadUserInput: naming ``field`` and the accepted values.
        """
        if isinstance(text, cls):
            return text
        if isinstance(text, str):
            wanted = text.strip()
            for member in cls:
                if wanted in (member.value, member.name, member.label):
                    return member
        accepted = ", ".join(member.value for member in cls)
        raise BadUserInput(f"{field} must be one of: {accepted}.", field=field)


class Circumstance(LabelledEnum):
    """The six statutory circumstances of dishonesty (2017 provisions, art. 1)."""

    REFUSES_DESPITE_ABILITY = (
        "refuses_despite_ability",
        "有履行能力而拒不履行生效法律文书确定义务",
    )
    OBSTRUCTS_ENFORCEMENT = (
        "obstructs_enforcement",
        "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
    )
    EVADES_ENFORCEMENT = (
        "evades_enforcement",
        "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
    )
    VIOLATES_PROPERTY_REPORTING = ("violates_property_reporting", "违反财产报告制度")
    VIOLATES_CONSUMPTION_RESTRICTION = ("violates_consumption_restriction", "违反限制消费令")
    BREACHES_SETTLEMENT = (
        "breaches_settlement",
        "无正当理由拒不履行执行和解协议",
    )


class Performance(LabelledEnum):
    """How far the obligations were performed (被执行人的履行情况)."""

    NOT_PERFORMED = ("not_performed", "全部未履行")
    PARTLY_PERFORMED = ("partly_performed", "部分未履行")


class Sex(LabelledEnum):
    """A person's sex as the resident ID records it."""

    MALE = ("male", "男")
    FEMALE = ("female", "女")


class EntryState(LabelledEnum):
    """Where an entry stands: on the list (published or corrected) or taken off it."""

    PUBLISHED = ("published", "已公布")
    CORRECTED = ("corrected", "已更正")
    REMOVED = ("removed", "已删除")


ChangeKind = EntryState
"""A change-feed event is named by the state it put the entry in."""


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """A validated entry as a court submits it (publication or correction).

    Attributes:
        subject: the debtor; a person (resident ID) or an organisation (USCC), named.
        sex, age: a person's; derived from the resident ID when not given.
        legal_representative: an organisation's (法定代表人或者负责人).
        case_number: the enforcement case, e.g. ``(2024)豫0823执1234号``.
        court_id: the court that publishes the entry.
        filed_on: the date the enforcement case was filed (立案时间).
        basis_issuer / basis_number: who made the enforcement basis (执行依据制作单位)
            and its document number (执行依据文号).
        obligations: what the basis obliges the debtor to do.
        performance / performed_part: how far it was done.
        circumstance: the statutory circumstance of dishonesty.
        published_on: the publication date.
    """

    subject: Subject
    sex: Sex | None
    age: int | None
    legal_representative: str | None
    case_number: str
    court_id: str
    filed_on: datetime.date
    basis_issuer: str
    basis_number: str
    obligations: str
    performance: Performance
    performed_part: str | None
    circumstance: Circumstance
    published_on: datetime.date

    @property
    def is_person(self) -> bool:
        """Whether the debtor is a natural person."""
        return self.subject.id_type == "resident_id"


def subject_from(id_type: object, id_number: object, name: object, field: str) -> Subject:
    """A validated subject, or ``BadUserInput`` naming ``field.<part>``."""
    if not isinstance(id_type, str) or not isinstance(id_number, str):
        raise BadUserInput(f"{field} needs an id_type and an id_number.", field=field)
    if name is not None and not isinstance(name, str):
        raise BadUserInput(f"{field}.name must be text.", field=f"{field}.name")
    try:
        return parse_subject(id_type, id_number, name)
    except InvalidSubject as error:
        raise BadUserInput(
            f"{field}.{error.field}: {error.reason}.", field=f"{field}.{error.field}"
        ) from None


def draft_from_mapping(data: Mapping[str, Any], *, today: datetime.date) -> EntryDraft:
    """Validate one entry given as a flat mapping (an import row or a mutation's input).

    Keys are the snake_case attribute names of :class:`EntryDraft`, with the
    subject as ``id_type``, ``id_number`` and ``name``.

    Raises:
        BadUserInput: naming the first field to correct.
    """
    subject = subject_from(data.get("id_type"), data.get("id_number"), data.get("name"), "subject")
    if subject.name is None:
        raise BadUserInput("The debtor's name is required.", field="subject.name")
    person = subject.id_type == "resident_id"
    published_on = _date(data.get("published_on"), "published_on", default=today)
    filed_on = _date(data.get("filed_on"), "filed_on")
    if filed_on > published_on:
        raise BadUserInput("filed_on is after published_on.", field="filed_on")
    if published_on > today:
        raise BadUserInput("published_on is in the future.", field="published_on")
    return EntryDraft(
        subject=subject,
        sex=_sex(data.get("sex"), subject) if person else None,
        age=_age(data.get("age"), subject, published_on) if person else None,
        legal_representative=None if person else _text(data, "legal_representative"),
        case_number=_text(data, "case_number", MAX_SHORT_TEXT),
        court_id=_text(data, "court_id", 64),
        filed_on=filed_on,
        basis_issuer=_text(data, "basis_issuer", MAX_SHORT_TEXT),
        basis_number=_text(data, "basis_number", MAX_SHORT_TEXT),
        obligations=_text(data, "obligations"),
        performance=Performance.parse(data.get("performance"), "performance"),
        performed_part=_optional_text(data, "performed_part"),
        circumstance=Circumstance.parse(data.get("circumstance"), "circumstance"),
        published_on=published_on,
    )


def _text(data: Mapping[str, Any], field: str, limit: int = MAX_TEXT) -> str:
    value = _optional_text(data, field, limit)
    if value is None:
        raise BadUserInput(f"{field} is required.", field=field)
    return value


def _optional_text(data: Mapping[str, Any], field: str, limit: int = MAX_TEXT) -> str | None:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise BadUserInput(f"{field} must be text.", field=field)
    if len(value) > limit:
        raise BadUserInput(f"{field} is longer than {limit} characters.", field=field)
    return value.strip()


def _date(value: object, field: str, *, default: datetime.date | None = None) -> datetime.date:
    if value is None or value == "":
        if default is None:
            raise BadUserInput(f"{field} is required.", field=field)
        return default
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise BadUserInput(f"{field} must be a date (YYYY-MM-DD).", field=field)


def _sex(value: object, subject: Subject) -> Sex:
    if value not in (None, ""):
        return Sex.parse(value, "sex")
    # GB 11643: the 17th digit (order code) is odd for men, even for women.
    return Sex.MALE if int(subject.id_number[16]) % 2 else Sex.FEMALE


def _age(value: object, subject: Subject, on: datetime.date) -> int:
    if value not in (None, ""):
        try:
            age = int(str(value))
        except ValueError:
            raise BadUserInput("age must be a whole number.", field="age") from None
        if not 0 <= age <= 150:
            raise BadUserInput("age must be between 0 and 150.", field="age")
        return age
    born = datetime.date(
        int(subject.id_number[6:10]), int(subject.id_number[10:12]), int(subject.id_number[12:14])
    )
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class ListEntry:
    """An entry as the list stores it; the ID number itself only sealed (see sealing.py).

    Attributes:
        id: the entry's id.
        id_type: ``resident_id`` or ``uscc``.
        subject_index: the blind index of the identifier.
        id_ciphertext: the sealed identifier.
        id_masked: the identifier as the public list shows it.
        court_name: the name of ``court_id``.
        state / state_reason / state_changed_on: where the entry stands and why.
        The other attributes are those of :class:`EntryDraft`.
    """

    id: int
    id_type: str
    subject_index: str
    id_ciphertext: bytes
    id_masked: str
    name: str
    sex: Sex | None
    age: int | None
    legal_representative: str | None
    case_number: str
    court_id: str
    court_name: str
    filed_on: datetime.date
    basis_issuer: str
    basis_number: str
    obligations: str
    performance: Performance
    performed_part: str | None
    circumstance: Circumstance
    published_on: datetime.date
    state: EntryState
    state_reason: str | None
    state_changed_on: datetime.date | None

    @property
    def on_list(self) -> bool:
        """Whether the entry is in force (published or corrected, not removed)."""
        return self.state is not EntryState.REMOVED
