"""``investigation(caseNumber, subject)``: what the agencies know of one judgment debtor.

The resolver establishes the legal authority (gateway.authority), plans from
the selection set (gateway.plan) and federates (gateway.federation); the types
only present the shaped answer. They are built from the catalog when the schema
is built: one ``Investigation`` field and one record type per registered dataset,
named and described by its ``GraphQLShape``, so a new kind needs no code here.
A value the policy denies, or that an agency could not give, resolves to
``null`` with an error saying why.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.types import Info
from strawberry.utils.str_converters import to_snake_case

from connectors.catalog import DATASETS, DatasetSpec
from gateway.auth import scopes
from gateway.authority import authorize_investigation
from gateway.context import RequestContext
from gateway.federation import DatasetAnswer, ShapedRecord, federate
from gateway.measures.assets import remember_investigated_assets
from gateway.plan import DatasetView, Window, view_of
from gateway.plan_cache import cached_plan
from gateway.schema.permissions import requires_scope
from gateway.schema.record_types import RecordTypes, SourceAgency, graphql_shape, record_types
from gateway.schema.subject import SubjectInput

_FAILED = (
    " An agency that could not answer leaves one null in the list, with an error "
    "(extensions.code, extensions.agency) at that position."
)


@strawberry.type(description="The subject investigated, as named in the case.")
class InvestigatedSubject:
    resident_id: str | None
    credit_code: str | None
    name: str | None


def _present(types: RecordTypes, view: DatasetView, record: ShapedRecord) -> Any:
    """The GraphQL object of a shaped record; denied values stay errors (resolved as null)."""
    values: dict[str, Any] = {}
    groups: dict[str, dict[str, str]] = {}
    for attribute, name in view.attributes.items():
        head, _, sub = attribute.partition(".")
        if sub:
            groups.setdefault(head, {})[sub] = name.partition(".")[2]
        elif name in record.values:
            values[attribute] = record.values[name]
    for head, subs in groups.items():
        items = record.values.get(head)
        if isinstance(items, list):
            nested = types.nested[head]
            items = [nested(**{a: i[n] for a, n in subs.items() if n in i}) for i in items]
        values[head] = items
    agency = SourceAgency(id=record.agency.id, name=record.agency.name, kind=record.agency.kind)
    return types.record(agency=agency, **values)


def _records(
    types: RecordTypes,
    answer: DatasetAnswer | None,
    dataset: str,
    window: Window | None = None,
) -> Any:
    if answer is None:
        return None
    if answer.error is not None:
        raise answer.error
    view = view_of(dataset)
    rows = answer.records
    if window is not None and window != answer.window:
        rows = [row for row in rows if window.contains(row.day)]
    # graphql-core resolves an exception in a list to null with a located error.
    return [_present(types, view, row) for row in rows] + list(answer.failures)


def _resolver(spec: DatasetSpec, types: RecordTypes) -> Any:
    """The ``Investigation`` field of one dataset: a list, one record, or a windowed list."""
    dataset = spec.name
    record_type = types.record
    shape = graphql_shape(spec)
    if not shape.many:

        def resolve_one(self: Any) -> Any:
            found = _records(types, self.answers.get(dataset), dataset)
            if not found:
                return None
            first = found[0]
            if isinstance(first, Exception):
                raise first
            return first

        resolve_one.__annotations__ = {"return": record_type | None}
        return strawberry.field(resolver=resolve_one, description=shape.field_description)
    description = shape.field_description + _FAILED
    if spec.time_field is None:

        def resolve_many(self: Any) -> Any:
            return _records(types, self.answers.get(dataset), dataset)

        resolve_many.__annotations__ = {"return": list[record_type | None] | None}  # type: ignore[valid-type]
        return strawberry.field(resolver=resolve_many, description=description)

    def resolve_window(
        self: Any, since: datetime.date | None = None, until: datetime.date | None = None
    ) -> Any:
        return _records(types, self.answers.get(dataset), dataset, Window(since, until))

    resolve_window.__annotations__ = {
        "since": datetime.date | None,
        "until": datetime.date | None,
        "return": list[record_type | None] | None,  # type: ignore[valid-type]
    }
    return strawberry.field(resolver=resolve_window, description=description)


def investigation_type() -> type:
    """The ``Investigation`` type: one field per registered dataset, built from the catalog."""
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__annotations__": {
            "case_number": str,
            "subject": InvestigatedSubject,
            "answers": strawberry.Private[Mapping[str, DatasetAnswer]],
        },
    }
    for spec in DATASETS.values():
        shape = graphql_shape(spec)
        namespace[to_snake_case(shape.field)] = _resolver(spec, record_types(spec))
    return strawberry.type(
        type("Investigation", (), namespace),
        description="What the agencies know of one subject, under one case.",
    )


def investigation_query() -> type:
    """The ``investigation`` root field, over the ``Investigation`` type of the registered kinds."""
    investigation = investigation_type()

    async def resolve(
        self: Any, info: Info[RequestContext, None], case_number: str, subject: SubjectInput
    ) -> Any:
        context = info.context
        record = context.access.record
        record.operation = "investigation"
        plan = cached_plan(info)
        record.requested = {dataset: sorted(names) for dataset, names in plan.fields.items()}
        authority = await authorize_investigation(context, case_number, subject)
        answers = await federate(context, authority, plan)
        # Measures may be ordered only on assets an investigation returned.
        await remember_investigated_assets(context, authority, answers)
        chosen = authority.subject
        is_person = chosen.id_type == "resident_id"
        return investigation(
            case_number=authority.case.case_number,
            subject=InvestigatedSubject(
                resident_id=chosen.id_number if is_person else None,
                credit_code=None if is_person else chosen.id_number,
                name=authority.respondent.name or chosen.name,
            ),
            answers=answers,
        )

    resolve.__annotations__ = {
        "info": Info[RequestContext, None],
        "case_number": str,
        "subject": SubjectInput,
        "return": investigation,
    }
    field = strawberry.field(
        resolver=resolve,
        description="Investigate a respondent of one of your open cases across the agencies.",
        permission_classes=[requires_scope(scopes.INVESTIGATE)],
    )
    namespace = {"__module__": __name__, "investigation": field}
    return strawberry.type(type("InvestigationQuery", (), namespace))
