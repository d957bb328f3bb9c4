"""The catalog of agency kinds, their datasets and fields: one registry.

An agency kind is one declarative unit, an :class:`AgencyKindSpec`: its name,
its datasets with their fields, how each dataset appears in GraphQL, and the
import path of its connector class. The built-in kinds live next to their
connectors (``connectors/<kind>/kind.py``); an agency's own kind is loaded from
the gateway's configuration by the same :func:`load_kind` (see README, "Adding an
agency kind"). :data:`KINDS` holds every registered kind and refuses any other:
the set of kinds is closed at run time. :data:`DATASETS` is a live, read-only view
of every registered kind's datasets, by name.

The gateway plans queries from the catalog, builds the ``Investigation`` GraphQL
types from it, policies name its fields, and the gateway's mask functions are
chosen by each field's ``mask``. Nested fields use dotted names (``members.name``);
a record carries them as a list of dicts under the first part
(``{"members": [{"name": ...}]}``).

Value encodings (all JSON-safe, no floats): ``date`` is ``YYYY-MM-DD``;
``datetime`` is ISO 8601 with offset (``2023-05-01T21:13:00+08:00``); ``money`` is
a string in yuan with two decimals (``"12345.67"``, ``"-80.00"``); ``decimal`` is
a string with two decimals in the unit the field names (``"89.50"`` m², ``"12.50"``
%); ``int`` is an integer; ``enum`` is one of the field's ``enum_values``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias, TypedDict

__all__ = [
    "BUILTIN_KINDS",
    "DATASETS",
    "KINDS",
    "AgencyKind",
    "AgencyKindSpec",
    "AllowanceRecord",
    "BankAccountRecord",
    "DatasetSpec",
    "FieldSpec",
    "FieldType",
    "GraphQLShape",
    "HouseholdMemberRecord",
    "HouseholdRecord",
    "KindRegistry",
    "LodgingRecord",
    "MarriageRecord",
    "MaskKind",
    "Sensitivity",
    "TaxRefundRecord",
    "UnknownAgencyKind",
    "field_spec",
    "load_kind",
]

AgencyKind: TypeAlias = str
"""The name of a registered agency kind, e.g. ``bank``; :data:`KINDS` says which exist."""
FieldType = Literal["string", "date", "datetime", "money", "decimal", "int", "enum"]
Sensitivity = Literal["low", "medium", "high"]
MaskKind = Literal[
    "account_number", "resident_id", "name", "address", "date_month", "document_number"
]

BUILTIN_KINDS: tuple[str, ...] = (
    "connectors.bank.kind:KIND",
    "connectors.tax.kind:KIND",
    "connectors.civil_affairs.kind:KIND",
    "connectors.public_security.kind:KIND",
    "connectors.real_estate.kind:KIND",
    "connectors.provident_fund.kind:KIND",
    "connectors.market_regulation.kind:KIND",
)
"""The kinds shipped with credgate, loaded exactly as an agency's own kind is."""

_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_GRAPHQL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


class UnknownAgencyKind(ValueError):
    """An agency kind that no registered :class:`AgencyKindSpec` declares."""


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
            runs (a gateway reaching the agency remotely never imports it).

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

    def connector_class(self) -> type:
        """Import the connector class.

        Raises:
            ValueError: the import path does not lead to a class.
        """
        found = _import(self.connector)
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
    shape = spec.graphql
    graphql_names = [shape.field, shape.type_name, *(t for t, _ in shape.nested.values())]
    if not all(_GRAPHQL_NAME.match(n) for n in graphql_names):
        raise ValueError(f"{where}: GraphQL names must be alphanumeric: {graphql_names}")
    heads = {n.partition(".")[0] for n in names if "." in n}
    if heads != set(shape.nested):
        raise ValueError(f"{where}: nested fields {sorted(heads)} need a GraphQL type each")


def _import(path: str) -> object:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"cannot import {module_name!r} ({error})") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no {attribute!r}") from None


class KindRegistry:
    """Every registered agency kind; the one place kinds are bound.

    The built-in kinds are loaded on first use (their modules import the SDK,
    which imports this one). Registering the same spec again is a no-op, so
    a kind named in configuration may be loaded by every component that reads it.
    """

    def __init__(self, builtin: tuple[str, ...] = ()) -> None:
        self._builtin = builtin
        self._kinds: dict[str, AgencyKindSpec] = {}
        self._datasets: dict[str, DatasetSpec] = {}
        self._lock = threading.RLock()
        self._loaded = not builtin

    def _ensure_builtin(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            for path in self._builtin:
                self.register(_spec_at(path))

    def register(self, spec: AgencyKindSpec) -> AgencyKindSpec:
        """Add a kind; the same spec twice is fine.

        Raises:
            ValueError: another kind of that name, or a dataset or GraphQL name
                another kind already uses.
        """
        self._ensure_builtin()
        with self._lock:
            known = self._kinds.get(spec.name)
            if known is spec or known == spec:
                return known
            if known is not None:
                raise ValueError(f"agency kind {spec.name} is registered already")
            taken = {name for other in self._datasets.values() for name in _graphql_names(other)}
            for dataset in spec.datasets:
                clash = _graphql_names(dataset)
                if dataset.name in self._datasets or clash & taken:
                    raise ValueError(
                        f"{spec.name}: dataset {dataset.name} or its GraphQL names "
                        f"{sorted(clash & taken)} are taken by another kind"
                    )
                taken |= clash
            self._kinds[spec.name] = spec
            self._datasets.update((d.name, d) for d in spec.datasets)
            return spec

    def unregister(self, name: str) -> None:
        """Remove a kind (tests that register a kind of their own clean up with it)."""
        with self._lock:
            spec = self._kinds.pop(name)
            for dataset in spec.datasets:
                del self._datasets[dataset.name]

    def get(self, name: str) -> AgencyKindSpec:
        """The kind of this name.

        Raises:
            UnknownAgencyKind: naming the kinds that do exist.
        """
        self._ensure_builtin()
        try:
            return self._kinds[name]
        except KeyError:
            known = ", ".join(sorted(self._kinds))
            raise UnknownAgencyKind(f"unknown agency kind {name!r} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        self._ensure_builtin()
        return name in self._kinds

    def names(self) -> frozenset[str]:
        """The names of every registered kind."""
        self._ensure_builtin()
        return frozenset(self._kinds)

    def specs(self) -> tuple[AgencyKindSpec, ...]:
        """Every registered kind, in registration order (built-ins first)."""
        self._ensure_builtin()
        return tuple(self._kinds.values())

    def dataset_map(self) -> Mapping[str, DatasetSpec]:
        """Every dataset by name, in registration order."""
        self._ensure_builtin()
        return self._datasets


def _graphql_names(spec: DatasetSpec) -> set[str]:
    shape = spec.graphql
    if shape is None:
        return set()
    return {shape.field, shape.type_name, *(t for t, _ in shape.nested.values())}


def _spec_at(path: str) -> AgencyKindSpec:
    found = _import(path)
    if not isinstance(found, AgencyKindSpec):
        raise ValueError(f"{path} is not an AgencyKindSpec")
    return found


def load_kind(path: str, name: str | None = None) -> AgencyKindSpec:
    """Import the :class:`AgencyKindSpec` at ``package.module:NAME`` and register it.

    Args:
        path: Where the declaration is.
        name: The kind it must declare, if the caller knows (a configuration key).

    Raises:
        ValueError: the path is malformed, does not import, does not name a spec (of
            ``name``), or the spec clashes with a registered kind.
    """
    if path.count(":") != 1 or not all(path.partition(":")[::2]):
        raise ValueError(f"{path!r} must be 'package.module:NAME'")
    spec = _spec_at(path)
    if name is not None and spec.name != name:
        raise ValueError(f"{path} declares kind {spec.name!r}")
    return KINDS.register(spec)


class _DatasetView(Mapping[str, DatasetSpec]):
    """A read-only, live view of the registered datasets."""

    def __getitem__(self, name: str) -> DatasetSpec:
        return KINDS.dataset_map()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(KINDS.dataset_map()))

    def __len__(self) -> int:
        return len(KINDS.dataset_map())

    def __repr__(self) -> str:
        return f"DATASETS({sorted(self)})"


KINDS = KindRegistry(BUILTIN_KINDS)
"""Every registered agency kind."""

DATASETS: Mapping[str, DatasetSpec] = _DatasetView()
"""Every dataset of every registered kind, by name."""


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


class BankAccountRecord(TypedDict, total=False):
    """A record of ``bank.accounts``."""

    bank_name: str
    branch: str
    account_number: str
    account_type: str
    status: str
    currency: str
    balance: str
    opened_on: str


class TaxRefundRecord(TypedDict, total=False):
    """A record of ``tax.refunds``."""

    tax_year: int
    tax_type: str
    amount: str
    refund_account: str
    refund_bank: str
    refund_date: str
    status: str


class MarriageRecord(TypedDict, total=False):
    """A record of ``civil_affairs.marriages``: one registration (marriage or divorce)."""

    status: str
    registered_on: str
    office: str
    spouse_name: str
    spouse_id_number: str


class AllowanceRecord(TypedDict, total=False):
    """A record of ``civil_affairs.allowances``."""

    program: str
    monthly_amount: str
    start_date: str
    end_date: str | None
    status: str


class HouseholdMemberRecord(TypedDict, total=False):
    """One member inside a ``public_security.household`` record."""

    name: str
    relation: str
    id_number: str
    birth_date: str


class HouseholdRecord(TypedDict, total=False):
    """A record of ``public_security.household`` (at most one per subject)."""

    household_number: str
    address: str
    head_name: str
    members: list[HouseholdMemberRecord]


class LodgingRecord(TypedDict, total=False):
    """A record of ``public_security.lodging``."""

    hotel: str
    city: str
    address: str
    check_in: str
    check_out: str | None
