"""The ``civil_affairs`` agency kind: its datasets and connector, declared once."""

from __future__ import annotations

from connectors.catalog import (
    AgencyKindSpec,
    AllowanceRecord,
    DatasetSpec,
    GraphQLShape,
    MarriageRecord,
    field_spec,
)

__all__ = ["KIND"]

MARRIAGES = DatasetSpec(
    "civil_affairs.marriages",
    "civil_affairs",
    (
        field_spec("status", "enum", "low", "What was registered", enum=("married", "divorced")),
        field_spec("registered_on", "date", "low", "Registration date"),
        field_spec("office", "string", "low", "Registration office"),
        field_spec("spouse_name", "string", "medium", "Name of the (former) spouse", mask="name"),
        field_spec("spouse_id_number", "string", "high", "Spouse's ID number", mask="resident_id"),
    ),
    MarriageRecord,
    description="Marriage and divorce registrations",
    graphql=GraphQLShape(
        "marriageRecords",
        "MarriageRecord",
        "A marriage or divorce registration.",
        "Marriage and divorce registrations.",
    ),
)

ALLOWANCES = DatasetSpec(
    "civil_affairs.allowances",
    "civil_affairs",
    (
        field_spec("program", "string", "medium", "Programme, e.g. 城市最低生活保障"),
        field_spec("monthly_amount", "money", "medium", "Monthly amount"),
        field_spec("start_date", "date", "low", "First month paid"),
        field_spec("end_date", "date", "low", "Last month paid; null while running", nullable=True),
        field_spec(
            "status", "enum", "low", "Allowance status", enum=("active", "suspended", "ended")
        ),
    ),
    AllowanceRecord,
    description="Social assistance paid to the subject",
    graphql=GraphQLShape(
        "allowanceRecords",
        "AllowanceRecord",
        "Social assistance (e.g. minimum living allowance) paid.",
        "Social assistance received.",
    ),
)

KIND = AgencyKindSpec(
    "civil_affairs",
    "Civil affairs bureaus",
    (MARRIAGES, ALLOWANCES),
    connector="connectors.civil_affairs.adapter:CivilAffairsConnector",
)
"""Civil affairs bureaus: marriage registrations and social assistance."""
