"""The throughput benchmark's baseline: a plain strawberry app over the same agencies.

What a bare federation router does for the investigation query, and nothing
more: parse and validate (strawberry's ``ParserCache`` and ``ValidationCache``
on, bounded), ask each agency once for the datasets and fields selected, and
present the records. It calls the same connector services as credgate, through
the same signed transport (:class:`connectors.remote.RemoteConnector`, which the
agencies require), but checks no token, no legal authority and no policy, and
writes no audit log. The schema mirrors credgate's ``investigation`` field, so
both are sent the very same query document. bench.direct_fanout asks the
agencies with the same pieces (:func:`wanted_in`, :func:`fetch_requests`,
:func:`fan_out`) and no server around them.

Run by ``bench.throughput`` as its own uvicorn process::

    python -m bench.baseline_app --config baseline.json --port 8301
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import uuid
from collections.abc import AsyncIterator, Collection, Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import strawberry
import uvicorn
from graphql import GraphQLResolveInfo, parse
from graphql.language import FieldNode, FragmentDefinitionNode, OperationDefinitionNode
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection, convert_selections
from strawberry.utils.str_converters import to_snake_case

from connectors.remote import RemoteAgency, RemoteConnector
from connectors.sdk import (
    DATASETS,
    AgencyIdentity,
    DatasetQuery,
    FetchRequest,
    FetchResult,
    LegalAuthority,
    Record,
    Subject,
    parse_subject,
)
from connectors.signing import TrustedKeys, load_private_key, load_public_key

CACHE_SIZE = 256
"""Bounded, like the caches of a deployment; one query shape needs one entry."""

# The baseline has no cases: every request names the same fixed authority.
_AUTHORITY = ("court-bench", "officer-bench", "协助查询通知书 (bench)")


@strawberry.type
class SourceAgency:
    id: str
    name: str
    kind: str


@strawberry.type
class InvestigatedSubject:
    resident_id: str | None
    credit_code: str | None
    name: str | None


@strawberry.type
class BankAccount:
    agency: SourceAgency
    bank: str | None = None
    branch: str | None = None
    account_number: str | None = None
    account_type: str | None = None
    status: str | None = None
    currency: str | None = None
    balance: str | None = None
    opened_on: datetime.date | None = None


@strawberry.type
class TaxRefund:
    agency: SourceAgency
    tax_year: int | None = None
    tax_type: str | None = None
    amount: str | None = None
    refund_account: str | None = None
    refund_bank: str | None = None
    refund_date: datetime.date | None = None
    status: str | None = None


@strawberry.type
class MarriageRecord:
    agency: SourceAgency
    status: str | None = None
    registered_on: datetime.date | None = None
    office: str | None = None
    spouse_name: str | None = None
    spouse_id_number: str | None = None


@strawberry.type
class AllowanceRecord:
    agency: SourceAgency
    program: str | None = None
    monthly_amount: str | None = None
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    status: str | None = None


@strawberry.type
class HouseholdMember:
    name: str | None = None
    relation: str | None = None
    id_number: str | None = None
    birth_date: str | None = None


@strawberry.type
class Household:
    agency: SourceAgency
    household_number: str | None = None
    address: str | None = None
    head_name: str | None = None
    members: list[HouseholdMember] | None = None


@strawberry.type
class LodgingRecord:
    agency: SourceAgency
    hotel: str | None = None
    city: str | None = None
    address: str | None = None
    check_in: datetime.datetime | None = None
    check_out: datetime.datetime | None = None


# GraphQL field of Investigation -> (catalog dataset, record type).
_DATASETS: Mapping[str, tuple[str, type]] = {
    "bankAccounts": ("bank.accounts", BankAccount),
    "taxRefunds": ("tax.refunds", TaxRefund),
    "marriageRecords": ("civil_affairs.marriages", MarriageRecord),
    "allowanceRecords": ("civil_affairs.allowances", AllowanceRecord),
    "household": ("public_security.household", Household),
    "lodgingRecords": ("public_security.lodging", LodgingRecord),
}
_RENAMES = {"bank": "bank_name"}  # attribute -> catalog field where they differ


@strawberry.type
class Investigation:
    case_number: str
    subject: InvestigatedSubject
    bank_accounts: list[BankAccount] | None = None
    tax_refunds: list[TaxRefund] | None = None
    marriage_records: list[MarriageRecord] | None = None
    allowance_records: list[AllowanceRecord] | None = None
    household: Household | None = None
    lodging_records: list[LodgingRecord] | None = None


@strawberry.input
class SubjectInput:
    resident_id: str | None = None
    credit_code: str | None = None
    name: str | None = None


def _wanted(selected: Iterable[Selection]) -> dict[str, frozenset[str]]:
    """Catalog dataset -> catalog fields selected (plain fields, no fragments)."""
    wanted: dict[str, frozenset[str]] = {}
    for root in selected:
        if not isinstance(root, SelectedField):
            continue
        for child in root.selections:
            if not isinstance(child, SelectedField) or child.name not in _DATASETS:
                continue
            dataset = _DATASETS[child.name][0]
            names = set()
            for leaf in child.selections:
                if not isinstance(leaf, SelectedField) or leaf.name == "agency":
                    continue
                attribute = to_snake_case(leaf.name)
                if leaf.selections:  # members { name ... }
                    names |= {f"{attribute}.{to_snake_case(s.name)}" for s in leaf.selections}  # type: ignore[union-attr]
                else:
                    names.add(_RENAMES.get(attribute, attribute))
            wanted[dataset] = frozenset(names & DATASETS[dataset].field_names)
    return wanted


def wanted_in(document: str, variables: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """What the baseline asks the agencies for ``document``, without executing it.

    The same walk as the resolver's, over the operation's selection set instead of
    ``info.selected_fields``: catalog dataset -> catalog fields.
    """
    parsed = parse(document)
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    # convert_selections reads only these two attributes of the resolve info.
    info = SimpleNamespace(fragments=fragments, variable_values=dict(variables))
    roots = cast(Collection[FieldNode], operation.selection_set.selections)
    return _wanted(convert_selections(cast("GraphQLResolveInfo[Any]", info), roots))


def subject_of(resident_id: str | None, credit_code: str | None, name: str | None) -> Subject:
    """The subject of a ``SubjectInput`` (as credgate parses it, less its error messages)."""
    if resident_id is not None:
        return parse_subject("resident_id", resident_id, name)
    return parse_subject("uscc", credit_code or "", name)


def fetch_requests(
    connectors: Iterable[RemoteConnector],
    queries: Mapping[str, DatasetQuery],
    authority: LegalAuthority,
    subject: Subject,
) -> list[tuple[RemoteConnector, FetchRequest]]:
    """One request per agency serving a dataset of ``queries``, each with a fresh id."""
    calls = []
    for connector in connectors:
        asked = {d: q for d, q in queries.items() if d in connector.datasets}
        if asked:
            calls.append((connector, FetchRequest(uuid.uuid4().hex, authority, subject, asked)))
    return calls


async def fan_out(calls: Iterable[tuple[RemoteConnector, FetchRequest]]) -> list[FetchResult]:
    """Ask every agency at once; the answers in the order of ``calls``."""
    return list(await asyncio.gather(*(connector.fetch(r) for connector, r in calls)))


def _value(dataset: str, name: str, value: Any) -> Any:
    kind = DATASETS[dataset].field(name).type
    if value is None:
        return None
    if kind == "date" and "." not in name:
        return datetime.date.fromisoformat(value)
    if kind == "datetime":
        return datetime.datetime.fromisoformat(value)
    return value


def _present(dataset: str, record_type: type, agency: AgencyIdentity, record: Record) -> Any:
    values: dict[str, Any] = {}
    for name, value in record.items():
        if name == "members" and isinstance(value, list):
            values[name] = [HouseholdMember(**member) for member in value]  # type: ignore[arg-type]
            continue
        attribute = next((a for a, n in _RENAMES.items() if n == name), name)
        values[attribute] = _value(dataset, name, value)
    source = SourceAgency(id=agency.id, name=agency.name, kind=agency.kind)
    return record_type(agency=source, **values)


@strawberry.type
class Query:
    @strawberry.field
    async def investigation(
        self, info: Info[Any, None], case_number: str, subject: SubjectInput
    ) -> Investigation:
        connectors: list[RemoteConnector] = info.context["connectors"]
        queries = {d: DatasetQuery(f) for d, f in _wanted(info.selected_fields).items()}
        chosen = subject_of(subject.resident_id, subject.credit_code, subject.name)
        authority = LegalAuthority(case_number, *_AUTHORITY)
        calls = fetch_requests(connectors, queries, authority, chosen)
        results = await fan_out(calls)
        found: dict[str, list[Any]] = {}
        for (connector, _), result in zip(calls, results, strict=True):
            for dataset, records in result.records.items():
                field = next(f for f, (d, _) in _DATASETS.items() if d == dataset)
                record_type = _DATASETS[field][1]
                rows = [_present(dataset, record_type, connector.identity, r) for r in records]
                found.setdefault(to_snake_case(field), []).extend(rows)
        household = found.pop("household", None)
        is_person = chosen.id_type == "resident_id"
        return Investigation(
            case_number=case_number,
            subject=InvestigatedSubject(
                resident_id=chosen.id_number if is_person else None,
                credit_code=None if is_person else chosen.id_number,
                name=chosen.name,
            ),
            household=household[0] if household else None,
            **found,
        )


class _App(GraphQL[dict[str, Any], None]):
    def __init__(self, connectors: list[RemoteConnector]) -> None:
        schema = strawberry.Schema(
            query=Query,
            # Instances, as strawberry documents (its annotation wants classes).
            extensions=[
                ParserCache(maxsize=CACHE_SIZE),  # type: ignore[list-item]
                ValidationCache(maxsize=CACHE_SIZE),  # type: ignore[list-item]
            ],
        )
        super().__init__(schema, graphql_ide=None)
        self.connectors = connectors

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"connectors": self.connectors}


def connectors_of(config: Mapping[str, Any]) -> list[RemoteConnector]:
    """A RemoteConnector per agency of ``config`` (see :func:`create_baseline_app`)."""
    key = load_private_key(Path(config["key"]))
    return [
        RemoteConnector(
            RemoteAgency(
                AgencyIdentity(a["id"], a["kind"], a["name"]),
                a["url"],
                TrustedKeys([load_public_key(Path(a["public_key"]))]),
            ),
            key,
        )
        for a in config["agencies"]
    ]


def create_baseline_app(config: Mapping[str, Any]) -> Starlette:
    """The baseline on ``/graphql``, asking the agencies listed in ``config``.

    ``config``: ``{"key": PEM path, "agencies": [{"id", "kind", "name", "url",
    "public_key"}]}``; the key is a gateway key the agencies trust.
    """
    connectors = connectors_of(config)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for connector in connectors:
                await connector.aclose()

    return Starlette(routes=[Route("/graphql", _App(connectors))], lifespan=lifespan)


def main() -> None:
    """Serve the baseline with uvicorn on 127.0.0.1 (one process, one worker)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_baseline_app(json.loads(args.config.read_text(encoding="utf-8")))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
