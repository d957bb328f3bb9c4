"""Canonical encodings of audit data: JSON for events, base64 for hashes.

An audit leaf is the hash of bytes, so the same event must always become the
same bytes. :func:`canonical_json` fixes that encoding: object keys sorted by
Unicode code point, no insignificant whitespace, UTF-8 without ``\\u`` escapes
for non-ASCII text, and only the JSON types whose encoding is unambiguous.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from gateway.audit.errors import CanonicalJSONError

__all__ = ["MAX_DEPTH", "MAX_SAFE_INTEGER", "canonical_json", "decode_base64", "encode_base64"]

#: Largest integer every JSON implementation reads exactly (I-JSON, RFC 7493 §2.2).
MAX_SAFE_INTEGER = 2**53 - 1

#: Deepest nesting of arrays and objects accepted; events are shallow.
MAX_DEPTH = 64


def canonical_json(obj: object) -> bytes:
    """Encode a JSON value canonically, for hashing.

    Accepted values are ``dict`` (string keys only), ``list``, ``str``,
    ``int``, ``bool`` and ``None``. Floats are refused outright, NaN and the
    infinities included: their text form differs between implementations, so
    an auditor re-encoding the event could compute another leaf hash. Amounts
    are therefore strings or integers.

    Args:
        obj: The value to encode.

    Returns:
        The UTF-8 bytes of the canonical JSON text.

    Raises:
        CanonicalJSONError: If the value contains a float, an unsupported type,
            a non-string key, an integer beyond ±(2**53 - 1), a string that is
            not valid Unicode (a lone surrogate), or nests deeper than
            :data:`MAX_DEPTH`.
    """
    # Every request writes two events, so the common case is kept cheap: a flat
    # scan for what orjson would accept but we must not (floats, deep nesting),
    # with orjson itself refusing non-string keys, unknown types and (strict
    # integers) anything beyond ±(2**53 - 1). The full walk runs only to explain
    # a refusal with the offending path.
    if not _plainly_valid(obj):
        _check_value(obj, "$", 0)
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    except orjson.JSONEncodeError as exc:
        _check_value(obj, "$", 0)
        # Lone surrogates are the only input left that orjson refuses.
        raise CanonicalJSONError(f"cannot encode value: {exc}") from exc


def _plainly_valid(obj: object) -> bool:
    """Whether ``obj`` holds only exact dicts, lists, str, int, bool and None, shallowly enough."""
    # Level by level: no per-item tuples, so an 8 KB event is scanned in ~30 µs.
    level: list[Any] = [obj]
    depth = 0
    while level:
        below: list[Any] = []
        for value in level:
            kind = type(value)
            if kind is dict:
                if depth >= MAX_DEPTH:
                    return False
                below.extend(value.values())
            elif kind is list:
                if depth >= MAX_DEPTH:
                    return False
                below.extend(value)
            elif kind not in _PLAIN_SCALARS:
                return False
        level = below
        depth += 1
    return True


_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def _check_value(value: object, path: str, depth: int) -> None:
    # bool before int: bool is an int subclass and is encoded as true/false.
    if value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        _check_integer(value, path)
    elif isinstance(value, float):
        raise CanonicalJSONError(f"{path}: floats are not allowed; use a string or an integer")
    elif isinstance(value, dict):
        _check_depth(path, depth)
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalJSONError(f"{path}: object key {key!r} is not a string")
            _check_value(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        _check_depth(path, depth)
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)
    else:
        raise CanonicalJSONError(f"{path}: type {type(value).__name__} has no canonical JSON form")


def _check_integer(value: int, path: str) -> None:
    # RFC 7493 §2.2: larger integers lose precision in IEEE 754 readers, so an
    # auditor's re-encoding would not reproduce the leaf.
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise CanonicalJSONError(f"{path}: integer {value} is outside ±(2**53 - 1)")


def _check_depth(path: str, depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise CanonicalJSONError(f"{path}: nesting deeper than {MAX_DEPTH} levels")


def encode_base64(data: bytes) -> str:
    """Encode bytes as standard, padded base64 (RFC 4648 §4).

    Args:
        data: The bytes to encode.

    Returns:
        The base64 text.
    """
    return base64.b64encode(data).decode("ascii")


def decode_base64(text: str) -> bytes:
    """Decode standard, padded base64 (RFC 4648 §4), accepting only its canonical form.

    Characters outside the alphabet, missing padding and non-zero padding bits
    are all rejected, so each byte string has exactly one accepted text.

    Args:
        text: The base64 text.

    Returns:
        The decoded bytes.

    Raises:
        ValueError: If ``text`` is not canonical standard base64.
    """
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError(f"invalid base64: {exc}") from exc
    # RFC 4648 §3.5: canonical encodings set the pad bits to zero.
    if encode_base64(data) != text:
        raise ValueError("non-canonical base64")
    return data
