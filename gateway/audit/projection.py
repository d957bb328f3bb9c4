"""What the audit tables copy out of each signed event, derived in one place.

Beside its canonical entry (the Merkle leaf data), each event has copies of the
facts auditors search by: columns of ``audit_events`` (kind, time, request id,
principal, court, officer, case, outcome), one ``audit_event_agencies`` row per
agency asked, one ``audit_event_measures`` row per control measure the event is
about and one ``audit_subjects`` row per subject. These copies are a
*projection* of the entry, and :func:`project` is the only code that computes
it: the writer inserts exactly what it returns, and ``credgate audit verify``
recomputes it from each stored entry and reports every column or row that
differs (:func:`projection_mismatches`). An event kind added later is covered
as long as it is written through the audit API, since nothing here depends on
the kind.

The copies serve search only: what auditors are shown is read from the entry
itself (gateway.audit.schema), so a tampered copy can hide an event from a
search, or add one to it, but never change what an auditor reads.
"""

from __future__ import annotations

import hmac
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from gateway.audit.errors import AuditError
from gateway.audit.subjects import ciphertext_hash

__all__ = [
    "PROJECTED_COLUMNS",
    "REQUEST_ID_LENGTH",
    "EntryMalformed",
    "EventProjection",
    "StoredSubject",
    "SubjectCommitment",
    "project",
    "projection_mismatches",
]

#: The ``audit_events`` columns derived from the entry, in the table's order.
PROJECTED_COLUMNS = (
    "kind",
    "time_ms",
    "request_id",
    "principal_subject",
    "client_id",
    "role",
    "court_id",
    "officer_id",
    "case_number",
    "outcome",
)

_stored_columns = operator.itemgetter(*PROJECTED_COLUMNS)

#: Width of ``audit_events.request_id``; longer ids are searched by their prefix.
REQUEST_ID_LENGTH = 64

#: Longest stored value quoted in a mismatch report.
_QUOTE_LIMIT = 80


class EntryMalformed(AuditError):
    """A signed entry lacks a fact every event has, so it cannot be projected."""

    code = "AUDIT_ENTRY_MALFORMED"


class SubjectCommitment(NamedTuple):
    """What an entry records about one subject, at its position.

    Attributes:
        position: The subject's position in the event (``audit_subjects.position``).
        blind_index: The keyed blind index (``audit_subjects.blind_index``).
        ciphertext_hash: Base64 SHA-256 of the ciphertext stored for it.
    """

    position: int
    blind_index: str
    ciphertext_hash: str


class StoredSubject(NamedTuple):
    """An ``audit_subjects`` row as verification reads it."""

    position: int
    blind_index: str
    ciphertext: bytes


class EventProjection(NamedTuple):
    """Every search value of one event, as its signed entry states it.

    The first fields are the ``audit_events`` columns in :data:`PROJECTED_COLUMNS`
    order (a tuple, so verification compares a whole row at once).

    Attributes:
        kind: ``audit_events.kind``.
        time_ms: ``audit_events.time_ms`` (the entry's ``time``).
        request_id: ``audit_events.request_id`` (at most 64 characters).
        principal_subject: ``audit_events.principal_subject``.
        client_id: ``audit_events.client_id``.
        role: ``audit_events.role``.
        court_id: ``audit_events.court_id``: the authority's court, else the caller's.
        officer_id: ``audit_events.officer_id``.
        case_number: ``audit_events.case_number``.
        outcome: ``audit_events.outcome``.
        agencies: The ``audit_event_agencies`` rows: each agency asked, once.
        subjects: The ``audit_subjects`` rows' commitments, by position.
        measures: The ``audit_event_measures`` rows: each measure the event is about, once.
    """

    kind: str
    time_ms: int
    request_id: str
    principal_subject: str | None
    client_id: str | None
    role: str | None
    court_id: str | None
    officer_id: str | None
    case_number: str | None
    outcome: str
    agencies: tuple[str, ...]
    subjects: tuple[SubjectCommitment, ...]
    measures: tuple[str, ...] = ()

    def columns(self) -> dict[str, Any]:
        """The ``audit_events`` column values, keyed by :data:`PROJECTED_COLUMNS`."""
        return dict(zip(PROJECTED_COLUMNS, self[: len(PROJECTED_COLUMNS)], strict=True))


def project(event: Mapping[str, Any]) -> EventProjection:
    """Derive every search value of an event from its entry.

    Args:
        event: The event as rendered for canonical JSON, or as parsed from it.

    Returns:
        The projection.

    Raises:
        EntryMalformed: If the entry lacks kind, time, request id or outcome,
            or holds a fact of the wrong JSON type.
    """
    # Written for speed as much as clarity: verification runs it on every entry.
    principal, authority = _object(event, "principal"), _object(event, "authority")
    kind, time_ms = event.get("kind"), event.get("time")
    request_id, outcome = event.get("requestId"), event.get("outcome")
    if type(kind) is not str or type(request_id) is not str or type(outcome) is not str:
        raise EntryMalformed(_missing_text(event))
    if type(time_ms) is not int or time_ms < 0:
        raise EntryMalformed("'time' is not a non-negative integer")
    court = authority.get("courtId")
    facts = (
        principal.get("subject"),
        principal.get("clientId"),
        principal.get("role"),
        # `or`, not a None test: an authority without a court falls back to the caller's.
        court or principal.get("courtId"),
        principal.get("officerId"),
        authority.get("caseNumber"),
        court,
    )
    for value in facts:
        if value is not None and type(value) is not str:
            raise EntryMalformed("a fact of 'principal' or 'authority' is not a string")
    return EventProjection(
        kind,
        time_ms,
        request_id[:REQUEST_ID_LENGTH],
        *facts[:6],
        outcome,
        _agencies(event),
        _subjects(event),
        _measures(event),
    )


def projection_mismatches(
    projection: EventProjection,
    stored: Mapping[str, Any],
    agencies: Iterable[str],
    subjects: Sequence[StoredSubject],
    measures: Iterable[str] = (),
) -> list[str]:
    """Every stored search value that differs from the entry's projection.

    Args:
        projection: :func:`project` of the signed entry.
        stored: The event's ``audit_events`` row (at least :data:`PROJECTED_COLUMNS`).
        agencies: Its ``audit_event_agencies`` agency ids.
        subjects: Its ``audit_subjects`` rows.
        measures: Its ``audit_event_measures`` measure ids.

    Returns:
        One line per mismatch, naming the table, column or row and both values;
        empty when the stored values are exactly the entry's.
    """
    stored_agencies, stored_measures = set(agencies), set(measures)
    if (
        _stored_columns(stored) == projection[: len(PROJECTED_COLUMNS)]
        and stored_agencies == set(projection.agencies)
        and stored_measures == set(projection.measures)
        and _subjects_match(projection.subjects, subjects)
    ):
        return []  # the common case, in one comparison per table
    found = []
    for name, expected in projection.columns().items():
        value = stored[name]
        if value != expected:
            found.append(
                f"audit_events.{name} is {_quote(value)}; the signed entry says {_quote(expected)}"
            )
    for agency in projection.agencies:
        if agency not in stored_agencies:
            found.append(f"audit_event_agencies: no row for agency {_quote(agency)}")
    for agency in sorted(stored_agencies - set(projection.agencies)):
        found.append(f"audit_event_agencies: row for agency {_quote(agency)} not in the entry")
    for measure in projection.measures:
        if measure not in stored_measures:
            found.append(f"audit_event_measures: no row for measure {_quote(measure)}")
    for measure in sorted(stored_measures - set(projection.measures)):
        found.append(f"audit_event_measures: row for measure {_quote(measure)} not in the entry")
    found.extend(_subject_mismatches(projection.subjects, subjects))
    return found


def _subjects_match(expected: Sequence[SubjectCommitment], stored: Sequence[StoredSubject]) -> bool:
    return len(expected) == len(stored) and all(
        row.position == commitment.position
        and row.blind_index == commitment.blind_index
        and hmac.compare_digest(ciphertext_hash(row.ciphertext), commitment.ciphertext_hash)
        for commitment, row in zip(expected, stored, strict=True)
    )


def _subject_mismatches(
    expected: Sequence[SubjectCommitment], stored: Sequence[StoredSubject]
) -> list[str]:
    found = []
    rows = {row.position: row for row in stored}
    for commitment in expected:
        row = rows.pop(commitment.position, None)
        where = f"audit_subjects position {commitment.position}"
        if row is None:
            found.append(f"{where}: no row, though the entry lists this subject")
            continue
        if row.blind_index != commitment.blind_index:
            found.append(
                f"{where}: blind_index is {_quote(row.blind_index)}; "
                f"the signed entry says {_quote(commitment.blind_index)}"
            )
        if not hmac.compare_digest(ciphertext_hash(row.ciphertext), commitment.ciphertext_hash):
            found.append(f"{where}: the ciphertext does not match the entry's ciphertextHash")
    for position in sorted(rows):
        found.append(f"audit_subjects position {position}: a row the entry does not list")
    return found


_NO_OBJECT: Mapping[str, Any] = {}


def _object(event: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = event.get(key)
    if value is None:
        return _NO_OBJECT
    if type(value) is not dict:
        raise EntryMalformed(f"'{key}' is not an object")
    return value


def _missing_text(event: Mapping[str, Any]) -> str:
    key = next(k for k in ("kind", "requestId", "outcome") if type(event.get(k)) is not str)
    return f"'{key}' is missing or not a string"


def _list(event: Mapping[str, Any], key: str) -> list[Any]:
    value = event.get(key)
    if value is None:
        return []
    if type(value) is not list:
        raise EntryMalformed(f"'{key}' is not a list")
    return value


def _agencies(event: Mapping[str, Any]) -> tuple[str, ...]:
    ids = []
    for call in _list(event, "agencies"):
        agency = call.get("agencyId") if type(call) is dict else None
        if type(agency) is not str:
            raise EntryMalformed("an agency call has no string 'agencyId'")
        ids.append(agency)
    # An agency asked twice in one request still has one row.
    return tuple(dict.fromkeys(ids))


def _measures(event: Mapping[str, Any]) -> tuple[str, ...]:
    ids = []
    for step in _list(event, "measures"):
        measure = step.get("measureId") if type(step) is dict else None
        if type(measure) is not str:
            raise EntryMalformed("a measure step has no string 'measureId'")
        ids.append(measure)
    # Several steps of one measure in one event still have one row.
    return tuple(dict.fromkeys(ids))


def _subjects(event: Mapping[str, Any]) -> tuple[SubjectCommitment, ...]:
    commitments = []
    for position, subject in enumerate(_list(event, "subjects")):
        is_object = type(subject) is dict
        blind = subject.get("blindIndex") if is_object else None
        digest = subject.get("ciphertextHash") if is_object else None
        if type(blind) is not str or type(digest) is not str:
            raise EntryMalformed(f"'subjects[{position}]' lacks its blind index or hash")
        commitments.append(SubjectCommitment(position, blind, digest))
    return tuple(commitments)


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 3] + "..."
