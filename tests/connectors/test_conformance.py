"""Every demo connector passes the conformance suite, and the suite catches offenders."""

from __future__ import annotations

import dataclasses

import pytest

from connectors.conformance import (
    check_broken_backend_raises_sdk_error,
    check_returns_only_requested_fields,
    check_unknown_subject_is_empty,
    check_values_match_catalog,
    conformance_request,
)
from connectors.demo import DEMO_AGENCIES, DemoWorld
from connectors.registry import build_connector
from connectors.sdk import (
    DATASETS,
    AgencyIdentity,
    AgencyUnavailable,
    Connector,
    DatasetQuery,
    FetchRequest,
    FetchResult,
    Record,
    Subject,
)
from connectors.testing import (
    CHECKS,
    ConformanceCase,
    ConformanceCheck,
    FailingConnector,
    StaticConnector,
    run_conformance,
)
from tests.connectors.conftest import ConnectorFactory

AGENCY_IDS = [identity.id for identity in DEMO_AGENCIES]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("agency_id", AGENCY_IDS)
async def test_demo_connector_conforms(
    check: ConformanceCheck,
    agency_id: str,
    demo_world: DemoWorld,
    connector_for: ConnectorFactory,
    unknown_subject: Subject,
    missing_database_url: str,
) -> None:
    connector = connector_for(agency_id)
    broken = build_connector(connector.identity.kind, connector.identity, missing_database_url)
    try:
        await check(
            ConformanceCase(connector, demo_world.debtors[0].subject, unknown_subject, broken)
        )
    finally:
        broken.close()


async def test_run_conformance_runs_every_check_on_an_in_memory_connector(
    demo_world: DemoWorld, connector_for: ConnectorFactory, unknown_subject: Subject
) -> None:
    real = connector_for("civil-affairs-jiaozuo")
    known = demo_world.debtors[0].subject
    everything = await real.fetch(_all_fields_request(real, known))
    static = StaticConnector(real.identity, {known.id_number: everything.records})
    broken = FailingConnector(
        real.identity, real.datasets, AgencyUnavailable("down", agency_id=real.identity.id)
    )
    await run_conformance(static, known, unknown_subject, broken=broken)


class _Leaky:
    """A connector that adds a field nobody asked for."""

    def __init__(self, inner: Connector) -> None:
        self.inner = inner

    @property
    def identity(self) -> AgencyIdentity:
        return self.inner.identity

    @property
    def datasets(self) -> frozenset[str]:
        return self.inner.datasets

    async def fetch(self, request: FetchRequest) -> FetchResult:
        result = await self.inner.fetch(request)
        leaked = {
            name: [{**record, "internal_note": "x"} for record in records]
            for name, records in result.records.items()
        }
        return dataclasses.replace(result, records=leaked)


async def test_suite_catches_a_connector_returning_unasked_fields(
    demo_world: DemoWorld, connector_for: ConnectorFactory, unknown_subject: Subject
) -> None:
    leaky = _Leaky(connector_for("bank-ccb"))
    case = ConformanceCase(leaky, demo_world.debtors[0].subject, unknown_subject, leaky)
    with pytest.raises(AssertionError, match="internal_note"):
        await check_returns_only_requested_fields(case)


async def test_suite_catches_a_float_amount(
    demo_world: DemoWorld, unknown_subject: Subject
) -> None:
    identity = AgencyIdentity("tax-test", "tax", "测试税务局")
    known = demo_world.debtors[0].subject
    refund: Record = {
        "tax_year": 2023,
        "tax_type": "个人所得税",
        "amount": 12.5,  # type: ignore[dict-item]  # the very mistake under test
        "refund_account": "6222020000000000000",
        "refund_bank": "中国工商银行",
        "refund_date": "2024-04-01",
        "status": "paid",
    }
    static = StaticConnector(identity, {known.id_number: {"tax.refunds": [refund]}})
    case = ConformanceCase(static, known, unknown_subject, static)
    with pytest.raises(AssertionError, match=r"amount=12\.5: not a string"):
        await check_values_match_catalog(case)


async def test_suite_catches_records_for_an_unknown_subject(
    demo_world: DemoWorld, unknown_subject: Subject
) -> None:
    identity = AgencyIdentity("tax-test", "tax", "测试税务局")
    static = StaticConnector(identity, {unknown_subject.id_number: {"tax.refunds": [{}]}})
    case = ConformanceCase(static, demo_world.debtors[0].subject, unknown_subject, static)
    with pytest.raises(AssertionError):
        await check_unknown_subject_is_empty(case)


async def test_suite_catches_a_backend_error_that_is_not_agency_unavailable(
    demo_world: DemoWorld, unknown_subject: Subject
) -> None:
    identity = AgencyIdentity("tax-test", "tax", "测试税务局")
    static = StaticConnector(identity, {})
    case = ConformanceCase(static, demo_world.debtors[0].subject, unknown_subject, static)
    with pytest.raises(AssertionError, match="broken backend answered"):
        await check_broken_backend_raises_sdk_error(case)


def _all_fields_request(connector: Connector, subject: Subject) -> FetchRequest:
    return conformance_request(
        subject, {name: DatasetQuery(DATASETS[name].field_names) for name in connector.datasets}
    )
