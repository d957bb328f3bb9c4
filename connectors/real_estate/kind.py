"""The ``real_estate`` agency kind (不动产登记): rights, mortgages and seals, declared once."""

from __future__ import annotations

from typing import TypedDict

from connectors.catalog import AgencyKindSpec, DatasetSpec, GraphQLShape, field_spec

__all__ = ["KIND", "MortgageRecord", "RealEstateRightRecord", "SealRecord"]


class RealEstateRightRecord(TypedDict, total=False):
    """A record of ``real_estate.rights``: one registered right to a parcel or a unit."""

    certificate_number: str
    unit_number: str
    location: str
    right_type: str
    use: str
    area: str
    ownership: str
    share: str
    registered_on: str
    status: str


class MortgageRecord(TypedDict, total=False):
    """A record of ``real_estate.mortgages``: a mortgage registered on a right."""

    mortgage_number: str
    certificate_number: str
    mortgagee: str
    secured_amount: str
    term_start: str
    term_end: str
    registered_on: str
    status: str


class SealRecord(TypedDict, total=False):
    """A record of ``real_estate.seals``: a court's seal (查封) on a right."""

    certificate_number: str
    sealing_court: str
    document_number: str
    seal_type: str
    sealed_from: str
    sealed_until: str
    status: str


RIGHTS = DatasetSpec(
    "real_estate.rights",
    "real_estate",
    (
        field_spec(
            "certificate_number",
            "string",
            "medium",
            "Real estate title certificate number (不动产权证号)",
        ),
        field_spec("unit_number", "string", "low", "Real estate unit number (不动产单元号)"),
        field_spec("location", "string", "high", "Where the parcel or unit is", mask="address"),
        field_spec(
            "right_type",
            "enum",
            "low",
            "Building ownership (房屋所有权) or land use right (国有建设用地使用权)",
            enum=("building_ownership", "land_use"),
        ),
        field_spec(
            "use",
            "enum",
            "low",
            "What it is used for",
            enum=("residential", "commercial", "industrial", "parking"),
        ),
        field_spec("area", "decimal", "low", "Area in square metres (building or land)"),
        field_spec(
            "ownership",
            "enum",
            "low",
            "Sole (单独所有), joint (共同共有) or in shares (按份共有)",
            enum=("sole", "joint", "shares"),
        ),
        field_spec("share", "decimal", "medium", "The subject's share in percent"),
        field_spec("registered_on", "date", "low", "Date the right was registered"),
        field_spec(
            "status",
            "enum",
            "medium",
            "normal, mortgaged (抵押) or sealed (查封; a seal outranks a mortgage)",
            enum=("normal", "mortgaged", "sealed"),
        ),
    ),
    RealEstateRightRecord,
    description="Real estate rights (parcels, buildings, units) of the subject",
    graphql=GraphQLShape(
        "realEstateRights",
        "RealEstateRight",
        "A registered real estate right (不动产权利) to a parcel, building or unit.",
        "Real estate registered to the subject.",
    ),
    key_field="certificate_number",
    asset_class="real_estate",
)

MORTGAGES = DatasetSpec(
    "real_estate.mortgages",
    "real_estate",
    (
        field_spec(
            "mortgage_number",
            "string",
            "medium",
            "Registration certificate of the mortgage (不动产登记证明号)",
        ),
        field_spec("certificate_number", "string", "medium", "Title certificate of the property"),
        field_spec("mortgagee", "string", "low", "Mortgagee (抵押权人), e.g. a bank"),
        field_spec("secured_amount", "money", "high", "Amount secured (被担保主债权数额)"),
        field_spec("term_start", "date", "low", "Start of the debt's term"),
        field_spec("term_end", "date", "low", "End of the debt's term"),
        field_spec("registered_on", "date", "low", "Date the mortgage was registered"),
        field_spec("status", "enum", "low", "Mortgage status", enum=("active", "released")),
    ),
    MortgageRecord,
    description="Mortgages on the subject's real estate",
    graphql=GraphQLShape(
        "realEstateMortgages",
        "RealEstateMortgage",
        "A mortgage (抵押) registered on the subject's real estate.",
        "Mortgages on the subject's real estate.",
    ),
    key_field="mortgage_number",
    amount_field="secured_amount",
)

SEALS = DatasetSpec(
    "real_estate.seals",
    "real_estate",
    (
        field_spec("certificate_number", "string", "medium", "Title certificate sealed"),
        field_spec("sealing_court", "string", "low", "Court that ordered the seal"),
        field_spec("document_number", "string", "low", "Its ruling, e.g. (2023)豫0802执保12号"),
        field_spec(
            "seal_type",
            "enum",
            "low",
            "A seal in force (查封) or one waiting in line behind it (轮候查封)",
            enum=("seal", "waiting"),
        ),
        field_spec("sealed_from", "date", "low", "First day of the seal"),
        field_spec("sealed_until", "date", "low", "Last day of the seal"),
        field_spec("status", "enum", "low", "Seal status", enum=("active", "lifted")),
    ),
    SealRecord,
    description="Seals by courts on the subject's real estate",
    graphql=GraphQLShape(
        "realEstateSeals",
        "RealEstateSeal",
        "A seal (查封) a court registered on the subject's real estate.",
        "Seals by courts on the subject's real estate.",
    ),
    key_field="certificate_number",
)

KIND = AgencyKindSpec(
    "real_estate",
    "Real estate registration centres (不动产登记中心)",
    (RIGHTS, MORTGAGES, SEALS),
    connector="connectors.real_estate.adapter:RealEstateConnector",
)
"""Real estate registration centres: rights, mortgages and seals."""
