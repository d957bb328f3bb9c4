"""The auditor's search filter: its GraphQL input and its validation.

A filter value that no event can hold (a malformed subject ID, an unknown
outcome, a window that ends before it starts ...) is the auditor's mistake, not
a search with no hits: it is refused with ``BAD_USER_INPUT`` naming the
argument, so that an empty result always means "no such event".
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from connectors.errors import InvalidSubject
from connectors.subject import Subject, parse_subject
from gateway.audit.events import EVENT_KINDS, EVENT_OUTCOMES
from gateway.audit.store import EventFilter
from gateway.audit.subjects import SubjectCipher
from gateway.authority import parse_case_number
from gateway.errors import BadUserInput, Forbidden

__all__ = ["AuditEventFilter", "event_filter"]

#: Width of the id columns searched (``audit_events.officer_id`` ...): a longer
#: id was never stored, so searching for one is a mistake.
_MAX_ID_LENGTH = 64


@strawberry.input(description="Narrows auditEvents; every field given must match.")
class AuditEventFilter:
    subject_id: str | None = strawberry.field(
        default=None, description="A resident ID number or unified social credit code."
    )
    officer_id: str | None = None
    court_id: str | None = None
    case_number: str | None = strawberry.field(
        default=None, description="In the form (2024)豫0823执1234号."
    )
    agency_id: str | None = None
    measure_id: str | None = strawberry.field(
        default=None, description="Events about one control measure, every step of it."
    )
    outcome: str | None = strawberry.field(
        default=None, description=f"One of {', '.join(EVENT_OUTCOMES)}."
    )
    kind: str | None = strawberry.field(
        default=None, description=f"One of {', '.join(EVENT_KINDS)}."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Events at or after this time (UTC if no zone is given)."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Events before this time (UTC if no zone is given)."
    )


def event_filter(
    where: AuditEventFilter | None, cipher: SubjectCipher, agency: str | None
) -> EventFilter:
    """The store's filter for an auditor's input, every value checked.

    Args:
        where: The auditor's filter, if any.
        cipher: Turns the subject ID into the blind index searched.
        agency: The agency an agency client is confined to, or ``None``.

    Returns:
        The filter.

    Raises:
        BadUserInput: naming the argument (``filter.outcome`` ...) that no
            event can match.
        Forbidden: an agency client asks about another agency's events.
    """
    where = where or AuditEventFilter()
    if agency is not None and where.agency_id not in (None, agency):
        raise Forbidden("An agency sees only the events in which it was asked.")
    since, until = _millis(where.since), _millis(where.until)
    if since is not None and until is not None and since > until:
        raise BadUserInput("'since' must not be after 'until'.", field="filter.since")
    subject = _subject(where.subject_id) if where.subject_id is not None else None
    return EventFilter(
        blind_index=cipher.blind_index(subject.id_number) if subject else None,
        officer_id=_identifier(where.officer_id, "officerId"),
        court_id=_identifier(where.court_id, "courtId"),
        case_number=parse_case_number(where.case_number, field="filter.caseNumber")
        if where.case_number is not None
        else None,
        agency_id=agency or _identifier(where.agency_id, "agencyId"),
        measure_id=_identifier(where.measure_id, "measureId"),
        outcome=_one_of(where.outcome, EVENT_OUTCOMES, "outcome"),
        kind=_one_of(where.kind, EVENT_KINDS, "kind"),
        since_ms=since,
        until_ms=until,
    )


def _subject(value: str) -> Subject:
    # Both kinds of ID are 18 characters; whichever validates is the one meant.
    for id_type in ("resident_id", "uscc"):
        try:
            return parse_subject(id_type, value)
        except InvalidSubject:
            continue
    raise BadUserInput(
        "'subjectId' is neither a valid resident ID number nor a valid unified social credit code.",
        field="filter.subjectId",
    )


def _identifier(value: str | None, name: str) -> str | None:
    if value is not None and not (0 < len(value) <= _MAX_ID_LENGTH and value == value.strip()):
        raise BadUserInput(
            f"'{name}' must have 1 to {_MAX_ID_LENGTH} characters and no surrounding spaces.",
            field=f"filter.{name}",
        )
    return value


def _one_of(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value is not None and value not in allowed:
        raise BadUserInput(
            f"'{name}' must be one of {', '.join(allowed)}, not {value!r}.",
            field=f"filter.{name}",
        )
    return value


def _millis(value: datetime | None) -> int | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)
