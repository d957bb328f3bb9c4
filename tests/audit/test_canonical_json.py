"""Canonical JSON for leaves, and the strict base64 used for hashes."""

from __future__ import annotations

import json
import math
from collections import OrderedDict

import pytest

from gateway.audit.canonical import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    canonical_json,
    decode_base64,
    encode_base64,
)
from gateway.audit.errors import CanonicalJSONError


def test_keys_are_sorted_at_every_level_without_whitespace() -> None:
    event = {"z": 1, "a": {"y": [3, {"c": None, "b": True}], "x": "s"}, "m": False}
    assert canonical_json(event) == (b'{"a":{"x":"s","y":[3,{"b":true,"c":null}]},"m":false,"z":1}')


def test_insertion_order_does_not_matter() -> None:
    forwards = OrderedDict([("a", 1), ("b", 2)])
    backwards = OrderedDict([("b", 2), ("a", 1)])
    assert canonical_json(forwards) == canonical_json(backwards)


def test_non_ascii_is_raw_utf8() -> None:
    event = {"debtor": "张三", "court": "豫0823执", "note": "é\u2028"}
    encoded = canonical_json(event)
    assert encoded == '{"court":"豫0823执","debtor":"张三","note":"é\u2028"}'.encode()
    assert b"\\u" not in encoded


def test_keys_sort_by_code_point() -> None:
    encoded = canonical_json({"\U0001f600": 1, "\uffff": 2, "Z": 3, "a": 4})
    assert encoded == '{"Z":3,"a":4,"\uffff":2,"\U0001f600":1}'.encode()


def test_control_characters_and_quotes_are_escaped() -> None:
    assert canonical_json({"s": 'a"b\\c\n\x01'}) == b'{"s":"a\\"b\\\\c\\n\\u0001"}'


def test_agrees_with_the_standard_library() -> None:
    event = {"amount": "1234.50", "count": -7, "names": ["Ä", "b"], "ok": True, "n": None}
    expected = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_json(event) == expected.encode()


@pytest.mark.parametrize(
    "value",
    [1.0, 0.1, -0.0, math.nan, math.inf, -math.inf, {"a": [1, 2.5]}, [{"amount": 10.0}]],
)
def test_floats_are_rejected(value: object) -> None:
    with pytest.raises(CanonicalJSONError, match="floats are not allowed") as caught:
        canonical_json(value)
    assert caught.value.code == "AUDIT_CANONICAL_JSON_INVALID"


def test_float_error_names_its_path() -> None:
    with pytest.raises(CanonicalJSONError, match=r"\$\.a\[1\]"):
        canonical_json({"a": [1, 2.5]})


@pytest.mark.parametrize(
    "value",
    [
        {1: "int key"},
        {None: "null key"},
        (1, 2),
        {1, 2},
        b"bytes",
        object(),
        MAX_SAFE_INTEGER + 1,
        -MAX_SAFE_INTEGER - 1,
        2**64,
        "\ud800",
        {"lone": "\udfff"},
    ],
)
def test_values_without_a_canonical_form_are_rejected(value: object) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_json(value)


def test_safe_integer_bounds_are_accepted() -> None:
    assert canonical_json([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0]) == (
        b"[9007199254740991,-9007199254740991,0]"
    )


def test_nesting_is_bounded() -> None:
    shallow: object = "leaf"
    for _ in range(MAX_DEPTH):
        shallow = [shallow]
    assert canonical_json(shallow).startswith(b"[[")
    with pytest.raises(CanonicalJSONError, match="nesting"):
        canonical_json([shallow])


def test_scalars() -> None:
    assert canonical_json(None) == b"null"
    assert canonical_json(True) == b"true"
    assert canonical_json("x") == b'"x"'
    assert canonical_json({}) == b"{}"
    assert canonical_json([]) == b"[]"


def test_base64_round_trip() -> None:
    for data in [b"", b"\x00", b"\xff\xfe", bytes(range(32))]:
        assert decode_base64(encode_base64(data)) == data


@pytest.mark.parametrize("text", ["AB==", "AA", "AA=", "A A=", "AA==\n", "ÄA==", "AA-_"])
def test_non_canonical_base64_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="base64"):
        decode_base64(text)
