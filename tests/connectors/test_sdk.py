"""The SDK's public surface, messages, errors and catalog."""

from __future__ import annotations

import datetime
import json
import typing

import pytest

import connectors.sdk
from connectors.sdk import (
    DATASETS,
    AgencyIdentity,
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    BadAgencyResponse,
    ConnectorError,
    DatasetQuery,
    FetchRequest,
    FetchResult,
    InvalidSubject,
    LegalAuthority,
    MalformedMessage,
    Record,
    Subject,
    ensure_served,
    project_record,
)

RESIDENT = "410802199001010010"


def test_sdk_exports_exactly_its_public_surface() -> None:
    assert connectors.sdk.__all__ == [
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
    for name in connectors.sdk.__all__:
        assert hasattr(connectors.sdk, name), name


def _request() -> FetchRequest:
    return FetchRequest(
        "req-1",
        LegalAuthority("(2024)豫0823执1234号", "court-wuzhi", "officer-7", "协助查询通知书"),
        Subject.resident(RESIDENT, "王伟"),
        {
            "bank.accounts": DatasetQuery(frozenset({"balance", "account_number"})),
            "public_security.lodging": DatasetQuery(
                frozenset({"hotel"}), datetime.date(2022, 1, 1), datetime.date(2024, 6, 30)
            ),
        },
    )


def test_fetch_request_survives_a_json_round_trip() -> None:
    request = _request()
    encoded = json.dumps(request.to_json(), ensure_ascii=False)
    assert FetchRequest.from_json(json.loads(encoded)) == request
    assert request.to_json()["datasets"]["public_security.lodging"]["since"] == "2022-01-01"


def test_fetch_result_survives_a_json_round_trip() -> None:
    result = FetchResult(
        "public-security-jiaozuo",
        {"public_security.household": [{"address": "x", "members": [{"name": "王伟"}]}]},
    )
    assert FetchResult.from_json(json.loads(json.dumps(result.to_json()))) == result


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda body: body.pop("authority"), "authority must be an object"),
        (lambda body: body.update(request_id=7), "request_id must be a string"),
        (lambda body: body["datasets"]["bank.accounts"].update(fields="balance"), "list"),
        (lambda body: body["datasets"]["bank.accounts"].update(since="yesterday"), "ISO"),
    ],
)
def test_malformed_request_payloads_are_refused(
    mutate: typing.Callable[[dict[str, typing.Any]], object], message: str
) -> None:
    body = _request().to_json()
    mutate(body)
    with pytest.raises(MalformedMessage, match=message):
        FetchRequest.from_json(body)


def test_a_request_payload_with_a_bad_subject_raises_invalid_subject() -> None:
    body = _request().to_json()
    body["subject"]["id_number"] = RESIDENT[:-1] + "9"
    with pytest.raises(InvalidSubject) as caught:
        FetchRequest.from_json(body)
    assert caught.value.field == "id_number"


def test_malformed_result_payloads_are_refused() -> None:
    with pytest.raises(MalformedMessage, match=r"records\.bank\.accounts must be a list"):
        FetchResult.from_json({"agency_id": "bank-icbc", "records": {"bank.accounts": {}}})


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        (AgencyUnavailable, "AGENCY_UNAVAILABLE"),
        (AgencyTimeout, "AGENCY_TIMEOUT"),
        (AgencyRejected, "AGENCY_REJECTED"),
        (BadAgencyResponse, "BAD_AGENCY_RESPONSE"),
    ],
)
def test_connector_errors_carry_code_and_agency(
    error_type: type[ConnectorError], code: str
) -> None:
    error = error_type("it broke", agency_id="bank-icbc")
    assert isinstance(error, ConnectorError)
    assert error.code == code
    assert error.extensions() == {"code": code, "agency": "bank-icbc"}
    assert str(error) == "it broke"


def test_invalid_subject_is_caller_input_not_a_connector_error() -> None:
    error = InvalidSubject("id_number", "wrong check digit")
    assert not isinstance(error, ConnectorError)
    assert isinstance(error, ValueError)
    assert (error.code, error.field, str(error)) == (
        "BAD_USER_INPUT",
        "id_number",
        "id_number: wrong check digit",
    )


def test_agency_identity_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown agency kind"):
        AgencyIdentity("x", "pawnshop", "当铺")


def test_project_record_keeps_asked_fields_and_nested_subfields() -> None:
    record: Record = {
        "household_number": "0823000001",
        "address": "河南省焦作市武陟县龙源路1号",
        "members": [{"name": "王伟", "relation": "户主", "id_number": RESIDENT}],
    }
    projected = project_record(record, frozenset({"address", "members.name"}))
    assert projected == {"address": record["address"], "members": [{"name": "王伟"}]}


@pytest.mark.parametrize(
    ("datasets", "message"),
    [
        ({"tax.refunds": DatasetQuery(frozenset({"amount"}))}, "tax.refunds is not served"),
        ({"bank.accounts": DatasetQuery(frozenset({"pin"}))}, "has no field pin"),
        ({"bank.accounts": DatasetQuery(frozenset())}, "no fields asked"),
    ],
)
def test_ensure_served_rejects_what_is_not_served(
    datasets: dict[str, DatasetQuery], message: str
) -> None:
    identity = AgencyIdentity("bank-icbc", "bank", "中国工商银行焦作分行")
    request = FetchRequest("r", _request().authority, _request().subject, datasets)
    with pytest.raises(AgencyRejected, match=message) as caught:
        ensure_served(identity, frozenset({"bank.accounts"}), request)
    assert caught.value.agency_id == "bank-icbc"


def test_catalog_record_types_name_the_dataset_fields() -> None:
    for spec in DATASETS.values():
        top_level = {name.partition(".")[0] for name in spec.field_names}
        assert set(typing.get_type_hints(spec.record_type)) == top_level, spec.name
        assert spec.name.startswith(spec.agency_kind + "."), spec.name
        for field in spec.fields:
            assert (field.type == "enum") == bool(field.enum_values), field.name


@pytest.mark.parametrize(
    ("dataset", "field", "mask"),
    [
        ("bank.accounts", "account_number", "account_number"),
        ("tax.refunds", "refund_account", "account_number"),
        ("civil_affairs.marriages", "spouse_name", "name"),
        ("civil_affairs.marriages", "spouse_id_number", "resident_id"),
        ("public_security.household", "address", "address"),
        ("public_security.household", "head_name", "name"),
        ("public_security.household", "members.name", "name"),
        ("public_security.household", "members.id_number", "resident_id"),
        ("public_security.household", "members.birth_date", "date_month"),
        ("public_security.lodging", "address", "address"),
    ],
)
def test_catalog_declares_masks(dataset: str, field: str, mask: str) -> None:
    assert DATASETS[dataset].field(field).mask == mask


def test_only_the_lodging_dataset_has_a_time_window() -> None:
    windowed = {name: spec.time_field for name, spec in DATASETS.items() if spec.time_field}
    assert windowed == {"public_security.lodging": "check_in"}
