"""GraphQL queries and mutations of the dishonest-debtor list.

Scopes are checked by permission classes; everything else (whose court, which
agency) by :mod:`gateway.credit_list.service`. Each resolver fills the request's
access record (operation, subjects) so the audit log records look-ups and feed
reads like any other access to personal data.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Annotated, cast

import strawberry
from strawberry.types import Info

from connectors.subject import Subject
from gateway.auth import scopes
from gateway.context import RequestContext
from gateway.credit_list.entries import EntryDraft, ListEntry, RemovalKind, draft_from_mapping
from gateway.credit_list.graphql_types import (
    AgencySanctionSummary,
    AssociatedListing,
    AssociatedPerson,
    DishonestEntry,
    DishonestEntryInput,
    DishonestListChange,
    DishonestListChangePage,
    DishonestStatus,
    ListedCase,
    LookedUpSubject,
    MeasureCount,
    PublicDishonestEntry,
    PublicDishonestListPage,
    Sanction,
    SanctionSummary,
    entry_fields,
)
from gateway.credit_list.sanctions import Measure, Outcome
from gateway.credit_list.sealing import mask_id
from gateway.credit_list.service import MAX_LOOKUP, MAX_PAGE, CreditList, SubjectStatus
from gateway.db import run_sync
from gateway.errors import BadUserInput, LimitExceeded, NotFound, ServiceUnavailable
from gateway.schema.permissions import requires_scope
from gateway.schema.subject import SubjectInput

ListInfo = Info[RequestContext, None]


def _service(info: ListInfo) -> CreditList:
    service = getattr(info.context.services, "credit_list", None)
    if not isinstance(service, CreditList):
        raise ServiceUnavailable("The dishonest-debtor list is not configured.")
    return service


def _audit(info: ListInfo, operation: str, subjects: Sequence[str] = ()) -> None:
    record = info.context.access.record
    record.operation = operation
    record.subjects.extend(subjects)


def _int_arg(value: str | None, field: str) -> int:
    """A cursor or an id: a non-negative integer written as text (``None`` is 0)."""
    if value is None:
        return 0
    if not value.isdigit() or len(value) > 18:
        raise BadUserInput(f"{field} is not a valid cursor or id.", field=field)
    return int(value)


def _page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}.", field="first")
    return first


def _full(service: CreditList, entry: ListEntry) -> DishonestEntry:
    associates = [
        AssociatedPerson(role=a.role, name=a.name, id_number=service.reveal_associate(a))
        for a in entry.associates
    ]
    fields = entry_fields(entry)
    return DishonestEntry(**fields, id_number=service.reveal(entry), associates=associates)  # type: ignore[arg-type]


def _public(entry: ListEntry, id_number: str) -> PublicDishonestEntry:
    # Masked again from the identifier: rows written before 0006 hold an older mask.
    masked = mask_id(id_number, entry.id_type)
    return PublicDishonestEntry(**entry_fields(entry), id_number_masked=masked)  # type: ignore[arg-type]


def _listed_case(entry: ListEntry) -> ListedCase:
    return ListedCase(
        entry_id=strawberry.ID(str(entry.id)),
        case_number=entry.case_number,
        court_id=entry.court_id,
        court_name=entry.court_name,
        circumstance=entry.circumstance,
        circumstances=list(entry.circumstances),
        published_on=entry.published_on,
        expires_on=entry.expires_on,
        state=entry.state,
    )


def _associated(service: CreditList, status: SubjectStatus) -> list[AssociatedListing]:
    return [
        AssociatedListing(
            role=association.role,
            entry_id=strawberry.ID(str(association.entry.id)),
            debtor_name=association.entry.name,
            debtor_credit_code=service.reveal(association.entry),
            case_number=association.entry.case_number,
            court_id=association.entry.court_id,
            court_name=association.entry.court_name,
            circumstances=list(association.entry.circumstances),
            published_on=association.entry.published_on,
            expires_on=association.entry.expires_on,
            state=association.entry.state,
        )
        for association in status.associations
    ]


def _draft(info: ListInfo, entry: DishonestEntryInput) -> EntryDraft:
    subject = entry.subject.to_subject("entry.subject")
    data = {
        key: getattr(entry, key)
        for key in (
            "sex",
            "age",
            "legal_representative",
            "case_number",
            "filed_on",
            "basis_issuer",
            "basis_number",
            "obligations",
            "performance",
            "performed_part",
            "circumstance",
            "circumstances",
            "published_on",
        )
    }
    data["associates"] = [
        {"role": person.role, "id_number": person.resident_id, "name": person.name}
        for person in entry.associates or []
    ]
    data |= {
        "id_type": subject.id_type,
        "id_number": subject.id_number,
        "name": subject.name,
        "court_id": info.context.principal.court_id,
    }
    return draft_from_mapping(data, today=datetime.datetime.now(datetime.UTC).date())


@strawberry.type
class CreditListQuery:
    @strawberry.field(
        description=f"Whether each subject is on the list (at most {MAX_LOOKUP} per call). "
        "An invalid subject gets null and its own BAD_USER_INPUT error; the others are answered.",
        permission_classes=[requires_scope(scopes.LIST_LOOKUP)],
    )
    async def dishonest_status(
        self, info: ListInfo, subjects: list[SubjectInput]
    ) -> list[DishonestStatus | None]:
        _audit(info, "dishonestStatus")
        if len(subjects) > MAX_LOOKUP:
            info.context.access.record.refused = LimitExceeded.code
            raise LimitExceeded(
                f"At most {MAX_LOOKUP} subjects per call; {len(subjects)} were sent.",
                limit=MAX_LOOKUP,
            )
        parsed: list[Subject | BadUserInput] = []
        for position, item in enumerate(subjects):
            try:
                parsed.append(item.to_subject(f"subjects.{position}"))
            except BadUserInput as error:
                parsed.append(error)
        valid = [item for item in parsed if isinstance(item, Subject)]
        _audit(info, "dishonestStatus", [subject.id_number for subject in valid])
        if len(valid) < len(parsed):
            info.context.access.record.error_codes.append(BadUserInput.code)
        service = _service(info)
        found = iter(await run_sync(service.status, info.context.principal, valid))
        # An exception in place of a list item becomes that item's own error, located
        # at its path (graphql-core's completeValue raises it): the others stay answered.
        return cast(
            list[DishonestStatus | None],
            [
                item if isinstance(item, BadUserInput) else _status(service, item, next(found))
                for item in parsed
            ],
        )

    @strawberry.field(
        description="The list's change feed after a cursor (null: from the start), in order.",
        permission_classes=[requires_scope(scopes.LIST_SYNC)],
    )
    async def dishonest_list_changes(
        self, info: ListInfo, after: str | None = None, first: int = 100
    ) -> DishonestListChangePage:
        _audit(info, "dishonestListChanges")
        seq = _int_arg(after, "after")
        service = _service(info)
        page = await run_sync(service.changes, seq, _page_size(first))
        _audit(info, "dishonestListChanges", [change.id_number for change in page.changes])
        changes = [
            DishonestListChange(
                cursor=str(change.seq),
                kind=change.kind,
                occurred_at=change.occurred_at,
                entry=_full(service, change.entry),
            )
            for change in page.changes
        ]
        last = page.changes[-1].seq if page.changes else seq
        return DishonestListChangePage(
            changes=changes,
            end_cursor=str(last) if last else None,
            has_next_page=last < page.last_seq,
        )

    @strawberry.field(
        description="Per agency and measure: sanctions reported and look-ups made.",
        permission_classes=[requires_scope(scopes.LIST_OVERSIGHT)],
    )
    async def sanction_summary(
        self,
        info: ListInfo,
        start: Annotated[datetime.date, strawberry.argument(name="from")],
        end: Annotated[datetime.date, strawberry.argument(name="to")],
    ) -> SanctionSummary:
        _audit(info, "sanctionSummary")
        if start > end:
            raise BadUserInput("'from' is after 'to'.", field="from")
        figures = await run_sync(_service(info).summary, start, end)
        agencies = [
            AgencySanctionSummary(
                agency_id=figure.agency_id,
                lookup_requests=figure.lookup_requests,
                subjects_looked_up=figure.subjects_looked_up,
                sanctions_reported=sum(figure.sanctions.values()),
                measures=[
                    MeasureCount(
                        measure=measure,
                        sanctions=count,
                        applied=figure.outcomes[measure].get(Outcome.APPLIED, 0),
                        not_applied=figure.outcomes[measure].get(Outcome.NOT_APPLIED, 0),
                        lifted=figure.outcomes[measure].get(Outcome.LIFTED, 0),
                    )
                    for measure, count in sorted(figure.sanctions.items(), key=lambda m: m[0].value)
                ],
            )
            for figure in figures
        ]
        return SanctionSummary(start=start, end=end, agencies=agencies)

    @strawberry.field(
        description="The public list: entries in force only, ID numbers masked.",
        permission_classes=[requires_scope(scopes.LIST_PUBLIC)],
    )
    async def public_dishonest_list(
        self,
        info: ListInfo,
        name: str | None = None,
        court: str | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> PublicDishonestListPage:
        _audit(info, "publicDishonestList")
        service = _service(info)
        size = _page_size(first)
        rows = await run_sync(service.public, name, court, _int_arg(after, "after"), size)
        page = rows[:size]
        numbers = [service.reveal(entry) for entry in page]
        _audit(info, "publicDishonestList", numbers)
        return PublicDishonestListPage(
            entries=[_public(entry, number) for entry, number in zip(page, numbers, strict=True)],
            end_cursor=str(page[-1].id) if page else after,
            has_next_page=len(rows) > size,
        )


def _status(service: CreditList, subject: Subject, found: SubjectStatus) -> DishonestStatus:
    return DishonestStatus(
        subject=LookedUpSubject(
            id_type=subject.id_type, id_number=subject.id_number, name=subject.name
        ),
        listed=bool(found.entries),
        entries=[_listed_case(entry) for entry in found.entries],
        associated_entries=_associated(service, found),
        restricted=bool(found.entries or found.associations),
    )


@strawberry.type
class CreditListMutation:
    @strawberry.mutation(
        description="Publish an entry for the caller's court (court administrators).",
        permission_classes=[requires_scope(scopes.LIST_PUBLISH)],
    )
    async def publish_dishonest_entry(
        self, info: ListInfo, entry: DishonestEntryInput
    ) -> DishonestEntry:
        _audit(info, "publishDishonestEntry")
        draft = _draft(info, entry)
        service = _service(info)
        _audit(info, "publishDishonestEntry", [draft.subject.id_number])
        stored = await run_sync(service.publish, info.context.principal, draft)
        return _full(service, stored)

    @strawberry.mutation(
        description="Correct an entry of the caller's court; the feed carries the correction. "
        "A corrected ID number (debtor's or an associate's) removes the entry as published "
        "(IDENTITY_CORRECTED) and publishes the corrected one, which is returned.",
        permission_classes=[requires_scope(scopes.LIST_PUBLISH)],
    )
    async def correct_dishonest_entry(
        self, info: ListInfo, id: strawberry.ID, entry: DishonestEntryInput, reason: str
    ) -> DishonestEntry:
        _audit(info, "correctDishonestEntry")
        draft = _draft(info, entry)
        service = _service(info)
        _audit(info, "correctDishonestEntry", [draft.subject.id_number])
        stored = await run_sync(
            service.correct, info.context.principal, _entry_id(id), draft, _reason(reason)
        )
        return _full(service, stored)

    @strawberry.mutation(
        description="Remove an entry of the caller's court (revocation or deletion, by kind); "
        "removedOn between publication and today; agencies must lift their measures.",
        permission_classes=[requires_scope(scopes.LIST_PUBLISH)],
    )
    async def remove_dishonest_entry(
        self,
        info: ListInfo,
        id: strawberry.ID,
        kind: RemovalKind,
        reason: str,
        removed_on: datetime.date | None = None,
    ) -> DishonestEntry:
        _audit(info, "removeDishonestEntry")
        service = _service(info)
        day = removed_on or service.today()
        stored = await run_sync(
            service.remove, info.context.principal, _entry_id(id), kind, _reason(reason), day
        )
        _audit(info, "removeDishonestEntry", [service.reveal(stored)])
        return _full(service, stored)

    @strawberry.mutation(
        description="Extend an entry's two-year term by 1-3 years (art. 2: serious obstruction "
        "or several circumstances; three years at most in all).",
        permission_classes=[requires_scope(scopes.LIST_PUBLISH)],
    )
    async def extend_dishonest_entry(
        self, info: ListInfo, id: strawberry.ID, years: int, reason: str
    ) -> DishonestEntry:
        _audit(info, "extendDishonestEntry")
        service = _service(info)
        stored = await run_sync(
            service.extend, info.context.principal, _entry_id(id), years, _reason(reason)
        )
        _audit(info, "extendDishonestEntry", [service.reveal(stored)])
        return _full(service, stored)

    @strawberry.mutation(
        description="Report a measure the caller's agency applied, did not apply or lifted "
        "(lifting also after the removal); OTHER needs measureDetail.",
        permission_classes=[requires_scope(scopes.LIST_FEEDBACK)],
    )
    async def report_sanction(
        self,
        info: ListInfo,
        entry: strawberry.ID,
        measure: Measure,
        applied_on: datetime.date,
        outcome: Outcome,
        note: str | None = None,
        measure_detail: str | None = None,
    ) -> Sanction:
        _audit(info, "reportSanction")
        if note is not None and len(note) > 2000:
            raise BadUserInput("note is longer than 2000 characters.", field="note")
        detail = measure_detail.strip() if measure_detail else None
        if detail is not None and len(detail) > 200:
            raise BadUserInput(
                "measureDetail is longer than 200 characters.", field="measureDetail"
            )
        report = await run_sync(
            _service(info).report_sanction,
            info.context.principal,
            _entry_id(entry),
            measure,
            outcome,
            applied_on,
            note,
            detail or None,
        )
        return Sanction(
            id=strawberry.ID(str(report.id)),
            entry_id=strawberry.ID(str(report.entry_id)),
            agency_id=report.agency_id,
            measure=report.measure,
            outcome=report.outcome,
            applied_on=report.applied_on,
            note=report.note,
            reported_at=report.reported_at,
            measure_detail=report.detail,
        )


def _entry_id(value: str) -> int:
    try:
        return _int_arg(value, "id")
    except BadUserInput:
        raise NotFound(f"No list entry {value!r}.") from None


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise BadUserInput("A reason of 1 to 2000 characters is required.", field="reason")
    return reason
