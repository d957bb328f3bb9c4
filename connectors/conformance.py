"""The conformance suite every connector must pass, whatever its transport.

Each check is a small async function of a :class:`ConformanceCase`, so a test
can parametrize over :data:`CHECKS`; :func:`run_conformance` runs them all::

    case = ConformanceCase(connector, known_subject, unknown_subject, broken=broken)
    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
    async def test_conformance(check):
        await check(case)

A failed check raises ``AssertionError`` saying what the connector did wrong.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass

from connectors.sdk import (
    DATASETS,
    AgencyRejected,
    AgencyUnavailable,
    Connector,
    DatasetQuery,
    FetchRequest,
    FetchResult,
    FieldSpec,
    JSONValue,
    LegalAuthority,
    Record,
    Subject,
)

__all__ = [
    "CHECKS",
    "ConformanceCase",
    "ConformanceCheck",
    "conformance_request",
    "run_conformance",
]

_AUTHORITY = LegalAuthority(
    case_number="(2024)豫0823执1号",
    court_id="court-conformance",
    officer_id="officer-conformance",
    document="协助查询通知书 (2024)豫0823执1号之一",
)
_MONEY = re.compile(r"-?\d+\.\d{2}")
_CANCEL_DEADLINE_S = 1.0


@dataclass(frozen=True, slots=True)
class ConformanceCase:
    """What the suite needs to know about a connector under test.

    Attributes:
        connector: The connector under test.
        known_subject: A subject with at least one record in every served dataset.
        unknown_subject: A valid subject the agency knows nothing about.
        broken: The same connector with its backend gone (missing database file,
            closed port ...); it must raise AgencyUnavailable.
    """

    connector: Connector
    known_subject: Subject
    unknown_subject: Subject
    broken: Connector


ConformanceCheck = Callable[[ConformanceCase], Awaitable[None]]


def conformance_request(
    subject: Subject, datasets: Mapping[str, DatasetQuery], request_id: str = "conformance"
) -> FetchRequest:
    """A request for ``datasets`` of ``subject`` under a fixed test authority."""
    return FetchRequest(request_id, _AUTHORITY, subject, dict(datasets))


def _all_fields(case: ConformanceCase) -> dict[str, DatasetQuery]:
    return {name: DatasetQuery(DATASETS[name].field_names) for name in case.connector.datasets}


async def _fetch(case: ConformanceCase, subject: Subject, **queries: DatasetQuery) -> FetchResult:
    return await case.connector.fetch(conformance_request(subject, queries))


async def _fetch_all(case: ConformanceCase, subject: Subject) -> FetchResult:
    return await case.connector.fetch(conformance_request(subject, _all_fields(case)))


async def check_identity(case: ConformanceCase) -> None:
    """It is a Connector, and serves only catalog datasets of its own kind."""
    connector = case.connector
    _require(isinstance(connector, Connector), "does not implement the Connector protocol")
    _require(connector.datasets, "serves no dataset")
    for name in connector.datasets:
        _require(name in DATASETS, f"serves {name}, which is not in the catalog")
        kind = DATASETS[name].agency_kind
        _require(kind == connector.identity.kind, f"{name} belongs to {kind} agencies")


async def check_returns_only_requested_datasets(case: ConformanceCase) -> None:
    """Each dataset asked alone comes back alone, under the agency's own id."""
    for name in sorted(case.connector.datasets):
        query = DatasetQuery(DATASETS[name].field_names)
        result = await _fetch(case, case.known_subject, **{name: query})
        _require(set(result.records) == {name}, f"asked {name}, got {sorted(result.records)}")
        _require(result.agency_id == case.connector.identity.id, "wrong agency_id")
    everything = await _fetch_all(case, case.known_subject)
    _require(set(everything.records) == case.connector.datasets, "not every dataset answered")


async def check_returns_only_requested_fields(case: ConformanceCase) -> None:
    """For every non-empty subset of every dataset's fields, exactly those come back."""
    for name in sorted(case.connector.datasets):
        names = sorted(DATASETS[name].field_names)
        full = await _fetch(case, case.known_subject, **{name: DatasetQuery(frozenset(names))})
        count = len(full.records[name])
        for subset in _subsets(names):
            result = await _fetch(case, case.known_subject, **{name: DatasetQuery(subset)})
            records = result.records[name]
            _require(len(records) == count, f"{name}{sorted(subset)}: record count changed")
            for record in records:
                _assert_shape(name, record, subset)


async def check_known_subject_has_records(case: ConformanceCase) -> None:
    """The known subject has at least one record in every served dataset."""
    result = await _fetch_all(case, case.known_subject)
    for name in case.connector.datasets:
        _require(result.records.get(name), f"no {name} record for the known subject")


async def check_unknown_subject_is_empty(case: ConformanceCase) -> None:
    """A subject the agency does not know gets empty lists, not an error."""
    result = await _fetch_all(case, case.unknown_subject)
    expected: dict[str, list[Record]] = {name: [] for name in case.connector.datasets}
    _require(dict(result.records) == expected, f"got {sorted(result.records)} with records")


async def check_unserved_dataset_rejected(case: ConformanceCase) -> None:
    """A dataset it does not serve, or a field a dataset lacks, is refused."""
    identity = case.connector.identity
    foreign = sorted(set(DATASETS) - case.connector.datasets)
    served = sorted(case.connector.datasets)[0]
    bad_queries = [
        {"nowhere.nothing": DatasetQuery(frozenset({"x"}))},
        {served: DatasetQuery(frozenset({"no_such_field"}))},
        *({name: DatasetQuery(DATASETS[name].field_names)} for name in foreign),
    ]
    for queries in bad_queries:
        try:
            await case.connector.fetch(conformance_request(case.known_subject, queries))
        except AgencyRejected as exc:
            _require(exc.agency_id == identity.id, "rejection names another agency")
        else:
            raise AssertionError(f"accepted {sorted(queries)} without AgencyRejected")


async def check_values_match_catalog(case: ConformanceCase) -> None:
    """Values have the catalog's encodings and survive a JSON round trip."""
    result = await _fetch_all(case, case.known_subject)
    for name, records in result.records.items():
        for spec in DATASETS[name].fields:
            for value in _values(records, spec.name):
                _assert_encoded(name, spec, value)
    encoded = json.dumps(result.to_json(), ensure_ascii=False)
    _require(not _has_float(result.records), "a float value; money travels as a string")
    _require(FetchResult.from_json(json.loads(encoded)) == result, "JSON round trip changed it")


async def check_time_window(case: ConformanceCase) -> None:
    """``since``/``until`` select exactly the records whose time field is inside."""
    for name in sorted(case.connector.datasets):
        time_field = DATASETS[name].time_field
        if time_field is None:
            continue
        fields = DATASETS[name].field_names
        full = (await _fetch(case, case.known_subject, **{name: DatasetQuery(fields)})).records
        days = sorted(_day(record[time_field]) for record in full[name])
        _require(days, f"no {name} record for the known subject")
        since, until = days[len(days) // 2], days[-1]
        window = DatasetQuery(fields, since=since, until=until)
        got = (await _fetch(case, case.known_subject, **{name: window})).records[name]
        want = [r for r in full[name] if since <= _day(r[time_field]) <= until]
        _require(got == want, f"{name}: window {since}..{until} returned other records")
        empty = DatasetQuery(fields, since=until + datetime.timedelta(1))
        later = (await _fetch(case, case.known_subject, **{name: empty})).records[name]
        _require(later == [], f"{name}: records after the last one")


async def check_cancellation(case: ConformanceCase) -> None:
    """Cancelling a fetch raises CancelledError promptly and leaves nothing running.

    Two cases: a caller-side wait wrapped around the fetch (as a gateway
    deadline does), and the connector's own call cancelled mid-flight.
    """
    before = asyncio.all_tasks()
    for fetch in (_slow_fetch(case), _fetch_all(case, case.known_subject)):
        task = asyncio.create_task(fetch)
        await asyncio.sleep(0)  # Let it start: cancel mid-flight, not before.
        if task.done():
            continue  # Answered within one loop step: nothing left to cancel.
        task.cancel()
        try:
            await asyncio.wait_for(task, _CANCEL_DEADLINE_S)
        except asyncio.CancelledError:
            pass
        except TimeoutError:
            raise AssertionError("fetch ignored cancellation") from None
        else:
            raise AssertionError("a cancelled fetch returned a result")
    _require(asyncio.all_tasks() <= before, "tasks left running after cancellation")
    await check_known_subject_has_records(case)  # Still answers afterwards.


async def _slow_fetch(case: ConformanceCase) -> FetchResult:
    await asyncio.sleep(60)
    return await _fetch_all(case, case.known_subject)


async def check_concurrent_fetches(case: ConformanceCase) -> None:
    """Concurrent fetches all succeed with the same answer."""
    results = await asyncio.gather(*(_fetch_all(case, case.known_subject) for _ in range(8)))
    _require(all(result == results[0] for result in results), "concurrent answers differ")


async def check_broken_backend_raises_sdk_error(case: ConformanceCase) -> None:
    """With its backend gone, it raises AgencyUnavailable, not a driver error."""
    try:
        await case.broken.fetch(conformance_request(case.known_subject, _all_fields(case)))
    except AgencyUnavailable as exc:
        _require(exc.agency_id == case.broken.identity.id, "error names another agency")
    else:
        raise AssertionError("a broken backend answered")


CHECKS: tuple[ConformanceCheck, ...] = (
    check_identity,
    check_returns_only_requested_datasets,
    check_returns_only_requested_fields,
    check_known_subject_has_records,
    check_unknown_subject_is_empty,
    check_unserved_dataset_rejected,
    check_values_match_catalog,
    check_time_window,
    check_cancellation,
    check_concurrent_fetches,
    check_broken_backend_raises_sdk_error,
)
"""Every check, in a sensible order; parametrize over it in pytest."""


async def run_conformance(
    connector: Connector, known_subject: Subject, unknown_subject: Subject, *, broken: Connector
) -> None:
    """Run every check against one connector.

    Raises:
        AssertionError: from the first check that fails.
    """
    case = ConformanceCase(connector, known_subject, unknown_subject, broken)
    for check in CHECKS:
        await check(case)


def _require(condition: object, message: str) -> None:
    """Fail the check; unlike ``assert``, this also works under ``python -O``."""
    if not condition:
        raise AssertionError(message)


def _subsets(names: list[str]) -> Iterator[frozenset[str]]:
    for size in range(1, len(names) + 1):
        for combination in itertools.combinations(names, size):
            yield frozenset(combination)


def _assert_shape(dataset: str, record: Record, fields: frozenset[str]) -> None:
    top = {name.partition(".")[0] for name in fields}
    _require(set(record) == top, f"{dataset}: asked {sorted(fields)}, got {sorted(record)}")
    for head in top - fields:
        subs = {name.partition(".")[2] for name in fields if name.startswith(head + ".")}
        items = record[head]
        if not isinstance(items, list):
            raise AssertionError(f"{dataset}.{head} is not a list")
        for item in items:
            if not isinstance(item, dict):
                raise AssertionError(f"{dataset}.{head} item is not an object")
            _require(
                set(item) == subs, f"{dataset}.{head}: asked {sorted(subs)}, got {sorted(item)}"
            )


def _values(records: list[Record], field: str) -> Iterator[JSONValue]:
    head, _, sub = field.partition(".")
    for record in records:
        value = record.get(head)
        if not sub:
            yield value
        elif isinstance(value, list):
            yield from (item.get(sub) for item in value if isinstance(item, dict))


def _assert_encoded(dataset: str, spec: FieldSpec, value: JSONValue) -> None:
    where = f"{dataset}.{spec.name}={value!r}"
    if value is None:
        _require(spec.nullable, f"{where}: null in a non-nullable field")
    elif spec.type == "int":
        _require(isinstance(value, int) and not isinstance(value, bool), f"{where}: not an int")
    else:
        if not isinstance(value, str):
            raise AssertionError(f"{where}: not a string")
        if spec.type in ("money", "decimal"):
            _require(_MONEY.fullmatch(value), f"{where}: {spec.type} must be a two-decimal string")
        elif spec.type == "date":
            _require(datetime.date.fromisoformat(value).isoformat() == value, f"{where}: not ISO")
        elif spec.type == "datetime":
            parsed = datetime.datetime.fromisoformat(value)
            _require(parsed.tzinfo is not None, f"{where}: datetime without an offset")
        elif spec.type == "enum":
            _require(value in spec.enum_values, f"{where}: not one of {spec.enum_values}")


def _has_float(value: object) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, Mapping):
        return any(_has_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_float(item) for item in value)
    return False


def _day(value: JSONValue) -> datetime.date:
    return datetime.date.fromisoformat(str(value)[:10])
