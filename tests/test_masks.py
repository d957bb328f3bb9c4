"""Every mask kind of the catalog has a mask, and each keeps only what it should."""

from __future__ import annotations

import typing

import pytest

from connectors.catalog import DATASETS, MaskKind
from gateway.masks import (
    MASKS,
    apply_mask,
    mask_account_number,
    mask_address,
    mask_date_month,
    mask_document_number,
    mask_name,
    mask_resident_id,
)


def test_every_mask_kind_and_every_masked_catalog_field_has_a_mask() -> None:
    assert set(MASKS) == set(typing.get_args(MaskKind))
    used = {f.mask for spec in DATASETS.values() for f in spec.fields if f.mask}
    assert used <= set(MASKS)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("6222021234567890", "************7890"),
        ("6222 0212 3456 7890", "************7890"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_account_numbers_keep_the_last_four_digits(value: str, masked: str) -> None:
    assert mask_account_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("41082319900101001X", "410823********001X"),
        ("41082319900101001x", "410823********001X"),
        ("410823900101001", "410823*****1001"),  # The old 15-digit form.
        ("12345", "*****"),
    ],
)
def test_resident_ids_keep_the_region_and_the_last_four(value: str, masked: str) -> None:
    assert mask_resident_id(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张伟", "张*"),
        ("王小明", "王**"),
        ("欧阳娜娜", "欧阳**"),
        ("司马光", "司马*"),
        ("欧阳", "欧*"),  # Too short for a compound surname and a given name.
        ("买买提·艾力", "买**·**"),
        ("王", "*"),
        ("  ", ""),
    ],
)
def test_names_keep_the_surname(value: str, masked: str) -> None:
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("河南省焦作市武陟县龙源路12号", "河南省焦作市武陟县****"),
        ("河南省焦作市解放区解放中路3号院1号楼2单元", "河南省焦作市解放区****"),
        ("河南省焦作市沁阳市覃怀路9号", "河南省焦作市沁阳市****"),
        ("北京市朝阳区建国路88号", "北京市朝阳区****"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放南路1号", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("河南省焦作市", "河南省焦作市"),
        ("龙源路12号", "****"),
    ],
)
def test_addresses_stop_at_the_district(value: str, masked: str) -> None:
    assert mask_address(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("1990-05-17", "1990-05"),
        ("2023-05-01T21:13:00+08:00", "2023-05"),
        ("17/05/1990", "****"),
    ],
)
def test_dates_keep_the_month(value: str, masked: str) -> None:
    assert mask_date_month(value) == masked


def test_apply_mask_hides_non_strings_and_keeps_null() -> None:
    assert apply_mask("name", "张伟") == "张*"
    assert apply_mask("name", None) is None
    assert apply_mask("account_number", 6222021234567890) == "****"
    with pytest.raises(KeyError):
        apply_mask("phone", "13800000000")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("LSVAM4187C2184467", "*************4467"),
        ("e 1234 5678", "*****5678"),
        ("1234", "****"),
    ],
)
def test_document_numbers_keep_the_last_four_characters(value: str, masked: str) -> None:
    assert mask_document_number(value) == masked
