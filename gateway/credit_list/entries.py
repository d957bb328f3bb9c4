"""Entries of the dishonest-debtor list (失信被执行人名单) and their validation.

The fields are the ones the Supreme People's Court's provisions on publishing
the list name (最高人民法院关于公布失信被执行人名单信息的若干规定, 2017, art. 1
and 6): who the debtor is, the enforcement case and court, the enforcement basis,
the obligations and how far they were performed, the circumstances of
dishonesty and the publication date; for an organisation, the people the
restrictions reach (legal representative, principal officer, actual controller,
persons directly responsible), each with their own ID number so that agencies
can match them. Minors are never listed (art. 4). The same parser serves the
GraphQL mutations and the bulk import, so both refuse the same things with the
same field names.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stdnum.cn import ric

from connectors.errors import InvalidSubject
from connectors.subject import Subject, parse_subject
from gateway.credit_list.errors import MinorDebtor
from gateway.credit_list.labels import AssociateRole, Circumstance, LabelledEnum
from gateway.credit_list.terms import RemovalKind, expires_on, term_years
from gateway.errors import BadUserInput

__all__ = [
    "AssociateDraft",
    "AssociateRole",
    "Circumstance",
    "EntryDraft",
    "EntryState",
    "LabelledEnum",
    "ListEntry",
    "Performance",
    "RemovalKind",
    "Sex",
    "StoredAssociate",
    "draft_from_mapping",
    "subject_from",
]

MAX_TEXT = 2000
MAX_SHORT_TEXT = 128


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
    EXTENDED = ("extended", "已延长期限")
    REMOVED = ("removed", "已删除")


#: art. 4: a minor (under 18 on the publication date) is never listed.
ADULT_AGE = 18
MAX_ASSOCIATES = 20


@dataclass(frozen=True, slots=True)
class AssociateDraft:
    """A person of a listed organisation whom the restrictions reach.

    Attributes:
        role: their role in the organisation.
        subject: the person, by resident ID, named.
    """

    role: AssociateRole
    subject: Subject


@dataclass(frozen=True, slots=True)
class StoredAssociate:
    """An associated person as the list stores it (ID number sealed, see sealing.py)."""

    role: AssociateRole
    name: str
    subject_index: str
    id_ciphertext: bytes


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
        circumstances: the statutory circumstances of dishonesty (art. 1), at least one.
        published_on: the publication date.
        associates: an organisation's people the restrictions reach.
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
    circumstances: tuple[Circumstance, ...]
    published_on: datetime.date
    associates: tuple[AssociateDraft, ...] = ()

    @property
    def is_person(self) -> bool:
        """Whether the debtor is a natural person."""
        return self.subject.id_type == "resident_id"

    @property
    def circumstance(self) -> Circumstance:
        """The first circumstance (the one earlier versions of the API knew)."""
        return self.circumstances[0]

    @property
    def term_years(self) -> int | None:
        """The base term (art. 2): two years, or none for circumstance (1)."""
        return term_years(self.circumstances)


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
    if person:
        _refuse_minor(subject, published_on)
    circumstances = _circumstances(data)
    expiry = expires_on(published_on, term_years(circumstances), 0)
    if expiry is not None and expiry <= today:
        raise BadUserInput(
            f"The two-year term of this entry ended on {expiry.isoformat()} (art. 2): "
            "it cannot be published.",
            field="published_on",
        )
    associates = _associates(data.get("associates"))
    if person and associates:
        raise BadUserInput(
            "Associates are an organisation's people; a listed person has none.",
            field="associates",
        )
    return EntryDraft(
        subject=subject,
        sex=_sex(data.get("sex"), subject) if person else None,
        age=_age(data.get("age"), subject, published_on) if person else None,
        legal_representative=None if person else _representative(data, associates),
        case_number=_text(data, "case_number", MAX_SHORT_TEXT),
        court_id=_text(data, "court_id", 64),
        filed_on=filed_on,
        basis_issuer=_text(data, "basis_issuer", MAX_SHORT_TEXT),
        basis_number=_text(data, "basis_number", MAX_SHORT_TEXT),
        obligations=_text(data, "obligations"),
        performance=Performance.parse(data.get("performance"), "performance"),
        performed_part=_optional_text(data, "performed_part"),
        circumstances=circumstances,
        published_on=published_on,
        associates=associates,
    )


def _refuse_minor(subject: Subject, published_on: datetime.date) -> None:
    born = ric.get_birth_date(subject.id_number)
    age = (
        published_on.year
        - born.year
        - ((published_on.month, published_on.day) < (born.month, born.day))
    )
    if age < ADULT_AGE:
        raise MinorDebtor(age)


def _circumstances(data: Mapping[str, Any]) -> tuple[Circumstance, ...]:
    """``circumstances`` (a list, or text separated by ``;``) or ``circumstance``.

    Only semicolons separate: the Chinese labels themselves contain 、 and commas.
    """
    given = data.get("circumstances")
    if isinstance(given, str):
        given = [part for part in given.replace("；", ";").split(";") if part.strip()]
    if given in (None, []):
        return (Circumstance.parse(data.get("circumstance"), "circumstance"),)
    if not isinstance(given, list | tuple):
        raise BadUserInput("circumstances must be a list.", field="circumstances")
    parsed = [Circumstance.parse(item, "circumstances") for item in given]
    single = data.get("circumstance")
    if single not in (None, "") and Circumstance.parse(single, "circumstance") not in parsed:
        raise BadUserInput("circumstance is not among circumstances.", field="circumstance")
    # Statutory order, each once: an entry holds a set of circumstances.
    return tuple(member for member in Circumstance if member in parsed)


def _associates(value: object) -> tuple[AssociateDraft, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list | tuple):
        raise BadUserInput("associates must be a list.", field="associates")
    if len(value) > MAX_ASSOCIATES:
        raise BadUserInput(f"At most {MAX_ASSOCIATES} associates.", field="associates")
    drafts: list[AssociateDraft] = []
    for position, item in enumerate(value):
        field = f"associates.{position}"
        if isinstance(item, AssociateDraft):
            drafts.append(item)
            continue
        if not isinstance(item, Mapping):
            raise BadUserInput(f"{field} must be an object.", field=field)
        role = AssociateRole.parse(item.get("role"), f"{field}.role")
        # ``resident_id`` is how GraphQL's AssociateInput spells it (residentId).
        number = item.get("resident_id", item.get("id_number"))
        subject = subject_from("resident_id", number, item.get("name"), field)
        if subject.name is None:
            raise BadUserInput(f"{field}.name is required.", field=f"{field}.name")
        drafts.append(AssociateDraft(role, subject))
    pairs = {(d.role, d.subject.id_number) for d in drafts}
    if len(pairs) < len(drafts):
        raise BadUserInput("An associate is given twice in the same role.", field="associates")
    return tuple(drafts)


def _representative(data: Mapping[str, Any], associates: tuple[AssociateDraft, ...]) -> str:
    """The legal representative's name: given, or that of the LEGAL_REPRESENTATIVE associate."""
    named = _optional_text(data, "legal_representative", 100)
    listed = [a.subject.name for a in associates if a.role is AssociateRole.LEGAL_REPRESENTATIVE]
    if listed and named is not None and named != listed[0]:
        raise BadUserInput(
            "legal_representative differs from the LEGAL_REPRESENTATIVE associate.",
            field="legal_representative",
        )
    name = named or (listed[0] if listed else None)
    if name is None:
        raise BadUserInput("legal_representative is required.", field="legal_representative")
    return name


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
        term_years / extended_years / expires_on: the listing term (art. 2);
            ``expires_on`` is the first day off the list, ``None`` without a term.
        removal_kind: why a removed entry left the list.
        replaced_by: the entry that replaced this one when its identity was corrected.
        associates: an organisation's people the restrictions reach.
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
    circumstances: tuple[Circumstance, ...]
    published_on: datetime.date
    state: EntryState
    state_reason: str | None
    state_changed_on: datetime.date | None
    term_years: int | None
    extended_years: int
    expires_on: datetime.date | None
    removal_kind: RemovalKind | None
    replaced_by: int | None
    associates: tuple[StoredAssociate, ...] = ()

    @property
    def circumstance(self) -> Circumstance:
        """The first circumstance."""
        return self.circumstances[0]

    @property
    def on_list(self) -> bool:
        """Whether the entry is in force (published or corrected, not removed)."""
        return self.state is not EntryState.REMOVED
