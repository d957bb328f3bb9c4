"""The ``public_security`` agency kind: its datasets and connector, declared once.

Exit-entry documents are part of this kind, not a kind of their own: in China the
exit-entry administration (出入境管理) issues passports through the public
security bureaus, from the same population register, so the same agency answers.
"""

from __future__ import annotations

from typing import TypedDict

from connectors.catalog import (
    AgencyKindSpec,
    DatasetSpec,
    GraphQLShape,
    HouseholdRecord,
    LodgingRecord,
    field_spec,
)

__all__ = ["KIND", "PassportRecord", "VehicleRecord"]


class VehicleRecord(TypedDict, total=False):
    """A record of ``public_security.vehicles``: one motor vehicle registered to the subject."""

    plate: str
    brand_model: str
    vin: str
    vehicle_type: str
    registered_on: str
    status: str


class PassportRecord(TypedDict, total=False):
    """A record of ``public_security.passports``: one exit-entry document issued."""

    document_number: str
    document_type: str
    issued_on: str
    expires_on: str
    issuing_authority: str
    status: str


HOUSEHOLD = DatasetSpec(
    "public_security.household",
    "public_security",
    (
        field_spec("household_number", "string", "medium", "Household register number (户号)"),
        field_spec("address", "string", "high", "Registered address", mask="address"),
        field_spec("head_name", "string", "medium", "Head of household", mask="name"),
        field_spec("members.name", "string", "medium", "Member name", mask="name"),
        field_spec("members.relation", "string", "low", "Relation to the head, e.g. 配偶"),
        field_spec("members.id_number", "string", "high", "Member ID number", mask="resident_id"),
        field_spec("members.birth_date", "date", "medium", "Member birth date", mask="date_month"),
    ),
    HouseholdRecord,
    description="The household (户口) the subject is registered in",
    graphql=GraphQLShape(
        "household",
        "Household",
        "The registered household (户口) of the subject.",
        "The registered household; null with an error on failure.",
        many=False,
        nested={"members": ("HouseholdMember", "A member of a registered household.")},
    ),
)

LODGING = DatasetSpec(
    "public_security.lodging",
    "public_security",
    (
        field_spec("hotel", "string", "medium", "Hotel name"),
        field_spec("city", "string", "low", "City"),
        field_spec("address", "string", "medium", "Hotel address", mask="address"),
        field_spec("check_in", "datetime", "medium", "Check-in time"),
        field_spec("check_out", "datetime", "medium", "Check-out time", nullable=True),
    ),
    LodgingRecord,
    time_field="check_in",
    description="Hotel stays registered by the subject",
    graphql=GraphQLShape(
        "lodgingRecords",
        "LodgingRecord",
        "A hotel stay registered with the police.",
        "Hotel stays checked in from `since` to `until` (inclusive), within what policy "
        "allows (e.g. the last two years).",
    ),
)

VEHICLES = DatasetSpec(
    "public_security.vehicles",
    "public_security",
    (
        field_spec("plate", "string", "medium", "Number plate (号牌号码), e.g. 豫H·A1234"),
        field_spec("brand_model", "string", "low", "Brand and model, e.g. 大众 朗逸"),
        field_spec(
            "vin", "string", "high", "Vehicle identification number", mask="document_number"
        ),
        field_spec(
            "vehicle_type",
            "enum",
            "low",
            "Kind of vehicle",
            enum=("car", "truck", "bus", "motorcycle"),
        ),
        field_spec("registered_on", "date", "low", "Date first registered to the subject"),
        field_spec(
            "status",
            "enum",
            "medium",
            "Registration status: seized (查封) and mortgaged (抵押) vehicles may not be "
            "transferred",
            enum=("normal", "mortgaged", "seized", "scrapped"),
        ),
    ),
    VehicleRecord,
    description="Motor vehicles registered to the subject",
    graphql=GraphQLShape(
        "vehicles",
        "Vehicle",
        "A motor vehicle registered to the subject (车辆登记).",
        "Motor vehicles registered to the subject.",
    ),
    key_field="plate",
    asset_class="vehicle",
)

PASSPORTS = DatasetSpec(
    "public_security.passports",
    "public_security",
    (
        field_spec("document_number", "string", "high", "Document number", mask="document_number"),
        field_spec(
            "document_type",
            "enum",
            "low",
            "Passport, Hong Kong and Macao permit, or Taiwan permit",
            enum=("passport", "hk_macao_permit", "taiwan_permit"),
        ),
        field_spec("issued_on", "date", "low", "Date issued"),
        field_spec("expires_on", "date", "low", "Date it expires"),
        field_spec("issuing_authority", "string", "low", "Issuing exit-entry office"),
        field_spec(
            "status",
            "enum",
            "medium",
            "Document status; exit_restricted when a court barred the holder from leaving",
            enum=("valid", "expired", "cancelled", "exit_restricted"),
        ),
    ),
    PassportRecord,
    description="Exit-entry documents issued to the subject",
    graphql=GraphQLShape(
        "passports",
        "TravelDocument",
        "An exit-entry document (passport or travel permit) issued to the subject.",
        "Passports and travel permits issued to the subject.",
    ),
    key_field="document_number",
)

KIND = AgencyKindSpec(
    "public_security",
    "Public security bureaus",
    (HOUSEHOLD, LODGING, VEHICLES, PASSPORTS),
    connector="connectors.public_security.adapter:PublicSecurityConnector",
)
"""Public security bureaus: household register, hotel stays, vehicles, exit-entry documents."""
