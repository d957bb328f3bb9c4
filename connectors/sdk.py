"""The connector SDK: the contract between the gateway and every agency.

A connector declares its agency and the datasets it serves, and answers
``fetch(request) -> result`` with only the fields asked for. Datasets and their
fields are declared in :mod:`connectors.catalog`; errors in
:mod:`connectors.errors` (the hierarchy is drawn there). Both are re-exported here,
so agencies import from ``connectors.sdk`` alone.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, runtime_checkable

from connectors.catalog import (
    DATASETS,
    KINDS,
    AgencyKind,
    AgencyKindSpec,
    AllowanceRecord,
    BankAccountRecord,
    DatasetSpec,
    FieldSpec,
    FieldType,
    GraphQLShape,
    HouseholdMemberRecord,
    HouseholdRecord,
    LodgingRecord,
    MarriageRecord,
    MaskKind,
    Sensitivity,
    TaxRefundRecord,
    UnknownAgencyKind,
    load_kind,
)
from connectors.control import (
    ASSET_CLASSES,
    CONTROLLED_DATASETS,
    MEASURE_KINDS,
    AssetRef,
    ControlConnector,
    ControlledDataset,
    LegalDocument,
    MeasureKind,
    MeasureOrder,
    MeasureReport,
    MeasureStatus,
)
from connectors.errors import (
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    BadAgencyResponse,
    ConnectorError,
    InvalidSubject,
    MalformedMessage,
)
from connectors.subject import IdType, Subject, parse_subject

__all__ = [
    "ASSET_CLASSES",
    "CONTROLLED_DATASETS",
    "DATASETS",
    "KINDS",
    "MEASURE_KINDS",
    "AgencyIdentity",
    "AgencyKind",
    "AgencyKindSpec",
    "AgencyRejected",
    "AgencyTimeout",
    "AgencyUnavailable",
    "AllowanceRecord",
    "AssetRef",
    "BadAgencyResponse",
    "BankAccountRecord",
    "Connector",
    "ConnectorError",
    "ControlConnector",
    "ControlledDataset",
    "DatasetQuery",
    "DatasetSpec",
    "FetchRequest",
    "FetchResult",
    "FieldSpec",
    "FieldType",
    "GraphQLShape",
    "HouseholdMemberRecord",
    "HouseholdRecord",
    "IdType",
    "InvalidSubject",
    "JSONValue",
    "LegalAuthority",
    "LegalDocument",
    "LodgingRecord",
    "MalformedMessage",
    "MarriageRecord",
    "MaskKind",
    "MeasureKind",
    "MeasureOrder",
    "MeasureReport",
    "MeasureStatus",
    "Record",
    "Sensitivity",
    "Subject",
    "TaxRefundRecord",
    "UnknownAgencyKind",
    "ensure_served",
    "load_kind",
    "parse_subject",
    "project_record",
]

JSONValue: TypeAlias = "str | int | bool | list[JSONValue] | dict[str, JSONValue] | None"
"""A JSON value without floats: money travels as a decimal string."""

Record: TypeAlias = dict[str, JSONValue]
"""One record of a dataset; see the dataset's TypedDict in the catalog for its fields."""


@dataclass(frozen=True, slots=True)
class AgencyIdentity:
    """Who answers: ``id`` like ``"bank-icbc"``, ``kind`` like ``"bank"``, Chinese ``name``.

    Raises:
        UnknownAgencyKind: ``kind`` is not a registered kind (see :data:`KINDS`).
    """

    id: str
    kind: AgencyKind
    name: str

    def __post_init__(self) -> None:
        KINDS.get(self.kind)  # The set of kinds is closed: refuse any other.


@dataclass(frozen=True, slots=True)
class LegalAuthority:
    """On whose authority a query is made.

    Attributes:
        case_number: e.g. ``(2024)豫0823执1234号``.
        court_id: e.g. ``court-wuzhi``.
        officer_id: The enforcement officer asking.
        document: The legal document, e.g. ``协助查询通知书 (2024)豫0823执1234号之一``.
    """

    case_number: str
    court_id: str
    officer_id: str
    document: str


@dataclass(frozen=True, slots=True)
class DatasetQuery:
    """What is wanted of one dataset: its fields (dotted for nested) and a time window.

    ``since`` and ``until`` are inclusive dates on the dataset's ``time_field``;
    datasets without one ignore them.
    """

    fields: frozenset[str]
    since: datetime.date | None = None
    until: datetime.date | None = None


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One request to one agency."""

    request_id: str
    authority: LegalAuthority
    subject: Subject
    datasets: Mapping[str, DatasetQuery]

    def to_json(self) -> dict[str, Any]:
        """Plain dicts and lists, dates as ISO strings, field lists sorted."""
        return {
            "request_id": self.request_id,
            "authority": {
                "case_number": self.authority.case_number,
                "court_id": self.authority.court_id,
                "officer_id": self.authority.officer_id,
                "document": self.authority.document,
            },
            "subject": self.subject.to_json(),
            "datasets": {
                name: {
                    "fields": sorted(query.fields),
                    "since": query.since.isoformat() if query.since else None,
                    "until": query.until.isoformat() if query.until else None,
                }
                for name, query in self.datasets.items()
            },
        }

    @classmethod
    def from_json(cls, data: object) -> FetchRequest:
        """The inverse of :meth:`to_json`.

        Raises:
            MalformedMessage: the payload does not have the documented shape.
            InvalidSubject: the subject's identifier is invalid.
        """
        body = _obj(data, "request")
        authority = _obj(body.get("authority"), "authority")
        subject = _obj(body.get("subject"), "subject")
        name = subject.get("name")
        datasets = {
            ds: DatasetQuery(
                frozenset(_str_list(query.get("fields"), f"{ds}.fields")),
                _date(query.get("since"), f"{ds}.since"),
                _date(query.get("until"), f"{ds}.until"),
            )
            for ds, query in (
                (ds, _obj(q, ds)) for ds, q in _obj(body.get("datasets"), "datasets").items()
            )
        }
        return cls(
            _str(body.get("request_id"), "request_id"),
            LegalAuthority(
                _str(authority.get("case_number"), "case_number"),
                _str(authority.get("court_id"), "court_id"),
                _str(authority.get("officer_id"), "officer_id"),
                _str(authority.get("document"), "document"),
            ),
            parse_subject(
                _str(subject.get("id_type"), "id_type"),
                _str(subject.get("id_number"), "id_number"),
                None if name is None else _str(name, "name"),
            ),
            datasets,
        )


@dataclass(frozen=True, slots=True)
class FetchResult:
    """An agency's answer: per dataset asked, the subject's records (maybe none)."""

    agency_id: str
    records: Mapping[str, list[Record]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Plain dicts and lists."""
        return {"agency_id": self.agency_id, "records": dict(self.records)}

    @classmethod
    def from_json(cls, data: object) -> FetchResult:
        """The inverse of :meth:`to_json`.

        Raises:
            MalformedMessage: the payload does not have the documented shape.
        """
        body = _obj(data, "result")
        records: dict[str, list[Record]] = {}
        for name, rows in _obj(body.get("records"), "records").items():
            if not isinstance(rows, list):
                raise MalformedMessage(f"records.{name} must be a list")
            records[name] = [dict(_obj(row, f"records.{name}[]")) for row in rows]
        return cls(_str(body.get("agency_id"), "agency_id"), records)


@runtime_checkable
class Connector(Protocol):
    """An agency's data, behind one method.

    Control measures (freeze, deduct) are a separate, optional protocol:
    :class:`ControlConnector` (``connectors.control``).
    """

    @property
    def identity(self) -> AgencyIdentity:
        """The agency this connector answers for."""
        ...

    @property
    def datasets(self) -> frozenset[str]:
        """Names of the catalog datasets it serves."""
        ...

    async def fetch(self, request: FetchRequest) -> FetchResult:
        """Answer a request with only the datasets and fields asked for.

        Args:
            request: Subject, legal authority and the fields wanted per dataset.

        Returns:
            For every dataset asked, the subject's records; an empty list when the
            agency knows nothing of the subject.

        Raises:
            AgencyRejected: a dataset or field asked for is not served.
            AgencyUnavailable: the agency's system is down or broken.
            AgencyTimeout: the agency's system did not answer in time.
            BadAgencyResponse: the agency's system answered with malformed data.
        """
        ...


def ensure_served(identity: AgencyIdentity, served: frozenset[str], request: FetchRequest) -> None:
    """Refuse a request for a dataset or field this agency does not serve.

    Raises:
        AgencyRejected: naming the first dataset or field not served.
    """
    for name, query in request.datasets.items():
        spec = DATASETS.get(name)
        if name not in served or spec is None:
            raise AgencyRejected(f"dataset {name} is not served", agency_id=identity.id)
        unknown = sorted(query.fields - spec.field_names)
        if unknown:
            raise AgencyRejected(f"{name} has no field {unknown[0]}", agency_id=identity.id)
        if not query.fields:
            raise AgencyRejected(f"no fields asked of {name}", agency_id=identity.id)


def project_record(record: Mapping[str, JSONValue], fields: frozenset[str]) -> Record:
    """Keep only the asked fields of a full record.

    A dotted field such as ``members.name`` keeps the ``members`` list with only
    the asked sub-fields of each item. A field the record lacks is left out.
    """
    kept: Record = {}
    nested: dict[str, set[str]] = {}
    for name in fields:
        head, _, sub = name.partition(".")
        if sub:
            nested.setdefault(head, set()).add(sub)
        elif head in record:
            kept[head] = record[head]
    for head, subs in nested.items():
        items = record.get(head)
        if isinstance(items, list):
            kept[head] = [
                {k: v for k, v in item.items() if k in subs}
                for item in items
                if isinstance(item, dict)
            ]
    return kept


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedMessage(f"{where} must be an object")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise MalformedMessage(f"{where} must be a string")
    return value


def _str_list(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedMessage(f"{where} must be a list of strings")
    return value


def _date(value: object, where: str) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(_str(value, where))
    except ValueError:
        raise MalformedMessage(f"{where} must be an ISO date") from None
