"""The investigation types are built from the catalog: the types that existed before keep
their fields and types exactly, every registered dataset has its field, and
``credgate schema --config`` shows an agency's own kind."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLObjectType

from connectors.catalog import DATASETS, KINDS
from gateway.cli import main
from gateway.schema import build_schema

# Field -> (type, arguments) of the hand-written types these replace (credgate schema
# before agency kinds were declared): clients built on them keep working.
EXISTING = {
    "Investigation": {
        "allowanceRecords": "[AllowanceRecord]",
        "bankAccounts": "[BankAccount]",
        "caseNumber": "String!",
        "household": "Household",
        "lodgingRecords": "[LodgingRecord](since: Date, until: Date)",
        "marriageRecords": "[MarriageRecord]",
        "subject": "InvestigatedSubject!",
        "taxRefunds": "[TaxRefund]",
    },
    "AllowanceRecord": {
        "agency": "SourceAgency!",
        "endDate": "Date",
        "monthlyAmount": "String",
        "program": "String",
        "startDate": "Date",
        "status": "String",
    },
    "BankAccount": {
        "accountNumber": "String",
        "accountType": "String",
        "agency": "SourceAgency!",
        "balance": "String",
        "bank": "String",
        "branch": "String",
        "currency": "String",
        "openedOn": "Date",
        "status": "String",
    },
    "Household": {
        "address": "String",
        "agency": "SourceAgency!",
        "headName": "String",
        "householdNumber": "String",
        "members": "[HouseholdMember!]",
    },
    "HouseholdMember": {
        "birthDate": "String",
        "idNumber": "String",
        "name": "String",
        "relation": "String",
    },
    "LodgingRecord": {
        "address": "String",
        "agency": "SourceAgency!",
        "checkIn": "DateTime",
        "checkOut": "DateTime",
        "city": "String",
        "hotel": "String",
    },
    "MarriageRecord": {
        "agency": "SourceAgency!",
        "office": "String",
        "registeredOn": "Date",
        "spouseIdNumber": "String",
        "spouseName": "String",
        "status": "String",
    },
    "TaxRefund": {
        "agency": "SourceAgency!",
        "amount": "String",
        "refundAccount": "String",
        "refundBank": "String",
        "refundDate": "Date",
        "status": "String",
        "taxType": "String",
        "taxYear": "Int",
    },
}


def _fields(schema_type: GraphQLObjectType) -> dict[str, str]:
    shown = {}
    for name, field in schema_type.fields.items():
        args = ", ".join(f"{a}: {arg.type}" for a, arg in field.args.items())
        shown[name] = f"{field.type}" + (f"({args})" if args else "")
    return shown


def test_the_existing_investigation_types_keep_their_fields_and_types() -> None:
    schema = build_schema()._schema
    for type_name, fields in EXISTING.items():
        found = _fields(schema.type_map[type_name])  # type: ignore[arg-type]
        assert {n: t for n, t in found.items() if n in fields} == fields, type_name
    # New datasets only add fields.
    assert set(EXISTING["Investigation"]) < set(_fields(schema.type_map["Investigation"]))  # type: ignore[arg-type]


def test_every_registered_dataset_is_a_field_of_investigation() -> None:
    investigation = build_schema()._schema.type_map["Investigation"]
    fields = _fields(investigation)  # type: ignore[arg-type]
    for spec in DATASETS.values():
        assert spec.graphql is not None
        expected = (
            spec.graphql.type_name if not spec.graphql.many else f"[{spec.graphql.type_name}]"
        )
        assert fields[spec.graphql.field].startswith(expected), spec.name


def test_schema_with_a_config_shows_an_agencys_own_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "credgate.toml"
    config.write_text('[kinds]\npawnshop = "tests.pawnshop_kind:KIND"\n', encoding="utf-8")
    try:
        assert main(["schema", "--config", str(config)]) == 0
    finally:
        if "pawnshop" in KINDS:
            KINDS.unregister("pawnshop")
    sdl = capsys.readouterr().out
    assert "pawnPledges: [PawnPledge]" in sdl
    assert "bankAccounts: [BankAccount]" in sdl
    assert "type PawnPledge {" in sdl
