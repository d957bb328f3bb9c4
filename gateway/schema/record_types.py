"""The record types of ``Investigation``, built from the catalog's dataset declarations.

Each dataset's ``GraphQLShape`` names its object type; each catalog field becomes a
nullable field of it (camelCase, renamed as the shape says), typed by its encoding
(a masked value stays a string) and described by the catalog's description and
how its value reads. Nested fields (``members.name``) become a list of their own type.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import strawberry

from connectors.catalog import DatasetSpec, FieldSpec, GraphQLShape
from gateway.plan import view_of

__all__ = ["RecordTypes", "SourceAgency", "graphql_shape", "record_types"]


@strawberry.type(description="The agency a record comes from.")
class SourceAgency:
    id: str
    name: str
    kind: str


def _description(spec: FieldSpec) -> str:
    """A field's GraphQL description: the catalog's, and how its value reads."""
    text = spec.description.rstrip(".") + "."
    if spec.type == "enum":
        text += f" One of: {', '.join(spec.enum_values)}."
    elif spec.type == "money":
        text += ' In yuan, two decimals ("12345.67").'
    elif spec.type == "decimal":
        text += ' Two decimals ("89.50").'
    elif spec.type == "date" and spec.mask == "date_month":
        text += " YYYY-MM-DD, or YYYY-MM when masked."
    return text


def _python_type(spec: FieldSpec) -> Any:
    """The GraphQL scalar of a field; a masked value stays a string (``1990-05``)."""
    if spec.type == "int":
        return int
    if spec.mask is None and spec.type == "date":
        return datetime.date
    if spec.mask is None and spec.type == "datetime":
        return datetime.datetime
    return str


def _object_type(
    name: str, description: str, fields: Mapping[str, tuple[Any, str]], *, agency: bool
) -> type:
    """A strawberry object type whose fields all default to null."""
    annotations: dict[str, Any] = {"agency": SourceAgency} if agency else {}
    namespace: dict[str, Any] = {"__module__": __name__}
    for attribute, (python_type, text) in fields.items():
        annotations[attribute] = python_type | None
        namespace[attribute] = strawberry.field(default=None, description=text or None)
    namespace["__annotations__"] = annotations
    return strawberry.type(type(name, (), namespace), description=description)


@dataclass(frozen=True)
class RecordTypes:
    """The GraphQL types of one dataset: its record type and its nested types by head."""

    record: type
    nested: Mapping[str, type]


def record_types(spec: DatasetSpec) -> RecordTypes:
    """The record type of a dataset, built from its catalog declaration."""
    shape = graphql_shape(spec)
    view = view_of(spec.name)
    by_name = {name: attribute for attribute, name in view.attributes.items()}
    own: dict[str, tuple[Any, str]] = {}
    groups: dict[str, dict[str, tuple[Any, str]]] = {}
    for field_spec in spec.fields:
        head, _, sub = by_name[field_spec.name].partition(".")
        entry = (_python_type(field_spec), _description(field_spec))
        if sub:
            if head not in groups:
                groups[head] = {}
                own[head] = (None, "")  # keeps the field order; typed below
            groups[head][sub] = entry
        else:
            own[head] = entry
    nested: dict[str, type] = {}
    for head, sub_fields in groups.items():
        type_name, text = shape.nested[head]
        nested[head] = _object_type(type_name, text, sub_fields, agency=False)
        own[head] = (list[nested[head]], text)  # type: ignore[valid-type]
    record = _object_type(shape.type_name, shape.description, own, agency=True)
    return RecordTypes(record, nested)


def graphql_shape(spec: DatasetSpec) -> GraphQLShape:
    """The dataset's GraphQL shape.

    Raises:
        ValueError: it has none.
    """
    if spec.graphql is None:  # AgencyKindSpec refuses such a dataset
        raise ValueError(f"{spec.name} has no GraphQL shape")
    return spec.graphql
