"""Subject validation with python-stdnum."""

from __future__ import annotations

import datetime

import pytest
from stdnum.cn import ric, uscc

from connectors.sdk import InvalidSubject, Subject, parse_subject


def _resident(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def test_valid_resident_id_is_normalised() -> None:
    number = _resident("41082319880215063")
    subject = parse_subject(
        "resident_id", f" {number[:6]} {number[6:14]} {number[14:].lower()} ", " 刘伟 "
    )
    assert subject == Subject("resident_id", number, "刘伟")


def test_resident_born_before_stdnums_region_table_is_accepted() -> None:
    # stdnum.cn.ric alone refuses this: 武陟县's code dates from 1986 in its table.
    number = _resident("41082319620304001")
    assert not ric.is_valid(number)
    assert Subject.resident(number).id_number == number


def test_valid_uscc_is_accepted() -> None:
    body = "91410823MA44X1B2C"
    code = body + uscc.calc_check_digit(body)
    assert Subject.organisation(code.lower(), "焦作市鑫源商贸有限公司").id_number == code


@pytest.mark.parametrize(
    ("id_type", "id_number", "field", "reason"),
    [
        ("resident_id", "410823198802150630", "id_number", "wrong check digit"),
        ("resident_id", "41082319880215063", "id_number", "18 characters"),
        ("resident_id", "4108231988021506301", "id_number", "18 characters"),
        ("resident_id", _resident("41082319880230063"), "id_number", "not a real date"),
        ("resident_id", _resident("41082330880215063"), "id_number", "in the future"),
        ("resident_id", _resident("99999919880215063"), "id_number", "unknown region"),
        ("resident_id", "41082319880215O63X", "id_number", "not allowed"),
        ("uscc", "91410823MA44X1B2CZ", "id_number", "not allowed"),
        ("uscc", "91410823MA44X1B2C", "id_number", "18 characters"),
        ("uscc", "91410823MA44X1B2C0", "id_number", "wrong check digit"),
        ("passport", "E12345678", "id_type", "must be one of"),
    ],
)
def test_invalid_identifiers_name_the_field(
    id_type: str, id_number: str, field: str, reason: str
) -> None:
    with pytest.raises(InvalidSubject, match=reason) as caught:
        parse_subject(id_type, id_number)
    assert caught.value.field == field


def test_a_blank_name_means_unknown_and_a_huge_one_is_refused() -> None:
    number = _resident("41082319880215063")
    assert parse_subject("resident_id", number, "   ").name is None
    with pytest.raises(InvalidSubject) as caught:
        parse_subject("resident_id", number, "王" * 101)
    assert caught.value.field == "name"


def test_direct_construction_validates_too() -> None:
    with pytest.raises(InvalidSubject, match="compact form"):
        Subject("resident_id", " 410823198802150630")
    assert datetime.date.today() > ric.get_birth_date(_resident("41082319880215063"))
