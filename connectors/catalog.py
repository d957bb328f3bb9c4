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

import threading
from collections.abc import Iterator, Mapping

from connectors.dataset_spec import (
    AgencyKind,
    AgencyKindSpec,
    DatasetSpec,
    FieldSpec,
    FieldType,
    GraphQLShape,
    MaskKind,
    Sensitivity,
    field_spec,
    import_object,
)
from connectors.records import (
    AllowanceRecord,
    BankAccountRecord,
    HouseholdMemberRecord,
    HouseholdRecord,
    LodgingRecord,
    MarriageRecord,
    TaxRefundRecord,
)

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


class UnknownAgencyKind(ValueError):
    """An agency kind that no registered :class:`AgencyKindSpec` declares."""


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
    found = import_object(path)
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
