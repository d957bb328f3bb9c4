"""The plan of an investigation: which datasets, which fields, which time window.

The GraphQL types of an investigation mirror the catalog (:mod:`connectors.catalog`):
each dataset is one field of ``Investigation`` and each catalog field one field of
its record type, named in camelCase (``opened_on`` → ``openedOn``), with the few
renames an officer reads better (``bank_name`` → ``bank``), as each dataset's
``GraphQLShape`` declares. :func:`views` derives that mapping from the catalog;
:func:`plan_from_selection` walks the selection set (fragments, inline
fragments, aliases, ``@skip``/``@include``) and keeps only what is asked.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection
from strawberry.utils.str_converters import to_camel_case

from connectors.sdk import DATASETS, DatasetSpec
from gateway.field_policy import FieldRef

__all__ = ["DatasetView", "Plan", "Window", "plan_from_selection", "view_of", "views"]


@dataclass(frozen=True)
class DatasetView:
    """How one dataset appears in GraphQL.

    Attributes:
        field: The field of ``Investigation``, e.g. ``bankAccounts``.
        dataset: The catalog dataset, e.g. ``bank.accounts``.
        attributes: Python attribute path of the record type (dotted for nested,
            ``members.id_number``) to catalog field name.
        many: A list of records (else at most one record).
    """

    field: str
    dataset: str
    attributes: Mapping[str, str]
    many: bool = True

    @property
    def graphql_paths(self) -> Mapping[str, str]:
        """GraphQL field path (``members.idNumber``) to catalog field name."""
        return {
            ".".join(to_camel_case(part) for part in path.split(".")): name
            for path, name in self.attributes.items()
        }


_views: dict[str, tuple[DatasetSpec, DatasetView]] = {}


def _view(spec: DatasetSpec) -> DatasetView:
    """The view of a dataset, from its catalog declaration (built once per spec)."""
    known = _views.get(spec.name)
    if known is not None and known[0] is spec:
        return known[1]
    shape = spec.graphql
    if shape is None:
        raise KeyError(spec.name)
    names = sorted(spec.field_names)
    renames = shape.renames
    view = DatasetView(shape.field, spec.name, {renames.get(n, n): n for n in names}, shape.many)
    _views[spec.name] = (spec, view)
    return view


def views() -> tuple[DatasetView, ...]:
    """The view of every registered dataset, in registration order."""
    return tuple(_view(spec) for spec in DATASETS.values())


def view_of(dataset: str) -> DatasetView:
    """The GraphQL view of a dataset; ``KeyError`` if it has none."""
    return _view(DATASETS[dataset])


def _view_by_field(graphql_field: str) -> DatasetView | None:
    for view in views():
        if view.field == graphql_field:
            return view
    return None


@dataclass(frozen=True)
class Window:
    """An inclusive date window; ``None`` leaves that end open."""

    since: datetime.date | None = None
    until: datetime.date | None = None

    def union(self, other: Window) -> Window:
        """The smallest window covering both (aliases may ask for two windows)."""
        since = None if self.since is None or other.since is None else min(self.since, other.since)
        until = None if self.until is None or other.until is None else max(self.until, other.until)
        return Window(since, until)

    def narrowed(self, max_age_days: int | None, today: datetime.date) -> Window:
        """This window, starting no earlier than ``max_age_days`` before ``today``."""
        if max_age_days is None:
            return self
        earliest = today - datetime.timedelta(days=max_age_days)
        return Window(earliest if self.since is None else max(self.since, earliest), self.until)

    @property
    def empty(self) -> bool:
        """Whether no day lies in the window."""
        return self.since is not None and self.until is not None and self.since > self.until

    def contains(self, day: datetime.date | None) -> bool:
        """Whether ``day`` lies in the window (an unknown day does not)."""
        if day is None:
            return False
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )


@dataclass(frozen=True)
class Plan:
    """What an investigation asks: per dataset its catalog fields, and time windows."""

    fields: Mapping[str, frozenset[str]] = field(default_factory=dict)
    windows: Mapping[str, Window] = field(default_factory=dict)

    def refs(self) -> list[FieldRef]:
        """One FieldRef per field asked, in a stable order (for one policy batch)."""
        return list(self._refs)

    @cached_property
    def _refs(self) -> tuple[FieldRef, ...]:
        # Plans are cached per query document, so this is built once per document.
        return tuple(
            FieldRef(DATASETS[dataset].agency_kind, dataset, name)
            for dataset in sorted(self.fields)
            for name in sorted(self.fields[dataset])
        )

    def window(self, dataset: str) -> Window:
        """The window asked of a time-stamped dataset (open when none was given)."""
        return self.windows.get(dataset, Window())


def plan_from_selection(selected: Iterable[Selection]) -> Plan:
    """The plan for the ``investigation`` field(s) of ``info.selected_fields``."""
    fields: dict[str, set[str]] = {}
    windows: dict[str, Window] = {}
    distinct: dict[str, set[Window]] = {}
    for root in _fields(selected):
        for child in _fields(root.selections):
            view = _view_by_field(child.name)
            if view is None:
                continue
            paths = view.graphql_paths
            wanted = {paths[p] for p in _leaf_paths(child.selections, "") if p in paths}
            fields.setdefault(view.dataset, set()).update(wanted)
            if DATASETS[view.dataset].time_field is not None:
                window = _window(child.arguments)
                known = windows.get(view.dataset)
                windows[view.dataset] = window if known is None else known.union(window)
                distinct.setdefault(view.dataset, set()).add(window)
    for dataset, seen in distinct.items():
        time_field = DATASETS[dataset].time_field
        if len(seen) > 1 and time_field is not None and fields.get(dataset):
            # Aliases asked for different windows: one request covers them all, and
            # each field filters its own records by the time field.
            fields[dataset].add(time_field)
    return Plan({d: frozenset(f) for d, f in fields.items() if f}, windows)


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, fragments flattened, skipped ones left out."""
    for selection in selections:
        if _skipped(selection.directives):
            continue
        if isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)
        else:
            yield selection


def _leaf_paths(selections: Iterable[Selection], prefix: str) -> Iterator[str]:
    for selected in _fields(selections):
        path = f"{prefix}{selected.name}"
        if selected.selections:
            yield from _leaf_paths(selected.selections, f"{path}.")
        else:
            yield path


def _skipped(directives: Mapping[str, Mapping[str, object]]) -> bool:
    # graphql-core has already checked the arguments' types; only their values matter.
    if "skip" in directives and directives["skip"].get("if") is True:
        return True
    return "include" in directives and directives["include"].get("if") is False


def _window(arguments: Mapping[str, object]) -> Window:
    return Window(_day(arguments.get("since")), _day(arguments.get("until")))


def _day(value: object) -> datetime.date | None:
    """A date argument as a literal (ISO string) or a coerced variable (date)."""
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            # Validation rejects bad literals before execution; an open end only
            # widens what is fetched, and the field's resolver filters again.
            return None
    return None
