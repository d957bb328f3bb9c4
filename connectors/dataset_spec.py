"""The declarations an agency kind is made of: fields, datasets, GraphQL shapes, the kind.

Value encodings are described in :mod:`connectors.catalog`; the registry of
kinds is there too.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from connectors.control import ASSET_CLASS_SPECS, AssetClass

__all__ = [
    "AgencyKind",
    "AgencyKindSpec",
    "DatasetSpec",
    "FieldSpec",
    "FieldType",
    "GraphQLShape",
    "MaskKind",
    "Sensitivity",
    "field_spec",
    "import_object",
]

AgencyKind: TypeAlias = str
"""A registered agency kind's name, e.g. ``bank``; ``connectors.catalog.KINDS`` has them."""
FieldType = Literal["string", "date", "datetime", "money", "decimal", "int", "enum"]
Sensitivity = Literal["low", "medium", "high"]
MaskKind = Literal[
    "account_number", "resident_id", "name", "address", "date_month", "document_number"
]

_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_GRAPHQL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a dataset.

    Attributes:
        name: snake_case, dotted for a nested field (``members.name``).
        type: How the value is encoded (see the module docstring).
        sensitivity: Input to policies.
        mask: The mask the gateway applies when a policy allows only ``readMasked``.
        description: What the field holds, for schema docs.
        enum_values: The allowed values of an ``enum`` field.
        nullable: Whether the value may be ``None``.
    """

    name: str
    type: FieldType
    sensitivity: Sensitivity
    mask: MaskKind | None
    description: str
    enum_values: tuple[str, ...] = ()
    nullable: bool = False


@dataclass(frozen=True, slots=True)
class GraphQLShape:
    """How a dataset appears under ``Investigation`` in GraphQL.

    Attributes:
        field: The field of ``Investigation``, camelCase, e.g. ``bankAccounts``.
        type_name: The record's object type, e.g. ``BankAccount``.
        description: The object type's description.
        field_description: The ``Investigation`` field's description.
        many: A list of records (else at most one record, null when none).
        renames: Catalog field name to the attribute an officer reads better
            (``{"bank_name": "bank"}``); the GraphQL name is its camelCase.
        nested: For a nested field's head (``members``), its object type's name and
            description.
    """

    field: str
    type_name: str
    description: str
    field_description: str
    many: bool = True
    renames: Mapping[str, str] = dataclasses.field(default_factory=dict)
    nested: Mapping[str, tuple[str, str]] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """One dataset: which agency kind serves it and what its records hold.

    Attributes:
        name: ``<agency kind>.<dataset>``, e.g. ``bank.accounts``.
        agency_kind: The kind of agency that serves it.
        fields: Its fields, nested ones dotted.
        record_type: The TypedDict describing one record.
        time_field: The field that ``DatasetQuery.since/until`` filter on, if any.
        description: What the dataset is, for schema docs and refusals.
        graphql: How it appears in GraphQL.
        key_field: The field identifying one controllable asset (an account
            number, a certificate number, a plate), if the dataset holds assets.
        amount_field: The field holding the asset's amount or balance, if any.
        asset_class: What class of asset its records are, if courts order control
            measures on them (``deposit``, ``real_estate`` ...): the one declaration
            that makes a dataset controllable. The class says which measures it
            takes and for how long (``connectors.control.ASSET_CLASS_SPECS``);
            ``key_field`` must be given, and ``amount_field`` for an amount-bound class.
    """

    name: str
    agency_kind: AgencyKind
    fields: tuple[FieldSpec, ...]
    record_type: type
    time_field: str | None = None
    description: str = ""
    graphql: GraphQLShape | None = None
    key_field: str | None = None
    amount_field: str | None = None
    asset_class: AssetClass | None = None

    @property
    def field_names(self) -> frozenset[str]:
        """The names of all fields, nested ones dotted."""
        return frozenset(spec.name for spec in self.fields)

    def field(self, name: str) -> FieldSpec:
        """The spec of one field; ``KeyError`` if the dataset has no such field."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class AgencyKindSpec:
    """One agency kind, declared once: its datasets and its connector.

    Attributes:
        name: snake_case, e.g. ``real_estate``; also the name of its policy file.
        description: Who these agencies are, e.g. ``Real estate registration centres``.
        datasets: Everything agencies of this kind serve.
        connector: ``package.module:Class`` of its connector, built as
            ``Class(identity, database_url)``; imported only where the connector
            runs (a gateway reaching the agency remotely never imports it). If
            a dataset declares an ``asset_class``, the class binds those assets
            to its tables in ``asset_bindings`` (connectors.control_ledger).

    Raises:
        ValueError: a malformed name, or a dataset that does not belong to the kind.
    """

    name: str
    description: str
    datasets: tuple[DatasetSpec, ...]
    connector: str

    def __post_init__(self) -> None:
        if not _KIND_NAME.match(self.name) or self.name == "gateway":
            raise ValueError(f"agency kind name {self.name!r} must be snake_case (not 'gateway')")
        if not self.datasets:
            raise ValueError(f"agency kind {self.name} declares no dataset")
        for spec in self.datasets:
            _check_dataset(self.name, spec)
        if ":" not in self.connector:
            raise ValueError(f"{self.name}.connector must be 'package.module:Class'")

    @property
    def controlled(self) -> tuple[str, ...]:
        """The datasets of this kind that take control measures (those with an asset class)."""
        return tuple(d.name for d in self.datasets if d.asset_class is not None)

    def connector_class(self) -> type:
        """Import the connector class.

        Raises:
            ValueError: the import path does not lead to a class.
        """
        found = import_object(self.connector)
        if not isinstance(found, type):
            raise ValueError(f"{self.connector} is not a class")
        return found


def _check_dataset(kind: str, spec: DatasetSpec) -> None:
    where = f"dataset {spec.name}"
    if spec.agency_kind != kind or not spec.name.startswith(f"{kind}."):
        raise ValueError(f"{where} must be named {kind}.<name> and declare agency_kind {kind}")
    if spec.graphql is None:
        raise ValueError(f"{where} declares no GraphQL shape")
    names = spec.field_names
    if len(names) != len(spec.fields):
        raise ValueError(f"{where} declares a field twice")
    for attr in ("time_field", "key_field", "amount_field"):
        value = getattr(spec, attr)
        if value is not None and value not in names:
            raise ValueError(f"{where}: {attr} {value!r} is not one of its fields")
    if spec.asset_class is not None:
        rules = ASSET_CLASS_SPECS.get(spec.asset_class)
        if rules is None:
            raise ValueError(f"{where}: unknown asset class {spec.asset_class!r}")
        if spec.key_field is None:
            raise ValueError(f"{where}: a controllable dataset names its key_field")
        if rules.amount_bound and (
            spec.amount_field is None or spec.field(spec.amount_field).type != "money"
        ):
            raise ValueError(f"{where}: {spec.asset_class} needs a money amount_field")
    shape = spec.graphql
    graphql_names = [shape.field, shape.type_name, *(t for t, _ in shape.nested.values())]
    if not all(_GRAPHQL_NAME.match(n) for n in graphql_names):
        raise ValueError(f"{where}: GraphQL names must be alphanumeric: {graphql_names}")
    heads = {n.partition(".")[0] for n in names if "." in n}
    if heads != set(shape.nested):
        raise ValueError(f"{where}: nested fields {sorted(heads)} need a GraphQL type each")


def import_object(path: str) -> object:
    """The object at ``package.module:NAME``.

    Raises:
        ValueError: the module does not import or has no such name.
    """
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import {module_name!r} ({error})") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no {attribute!r}") from None


def field_spec(
    name: str,
    type_: FieldType,
    sensitivity: Sensitivity,
    description: str,
    *,
    mask: MaskKind | None = None,
    enum: tuple[str, ...] = (),
    nullable: bool = False,
) -> FieldSpec:
    """A :class:`FieldSpec`, briefly: ``field_spec("balance", "money", "high", "Balance")``."""
    return FieldSpec(name, type_, sensitivity, mask, description, enum, nullable)
