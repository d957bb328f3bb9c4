"""Import files may spell fields as the GraphQL API does (camelCase) or in snake_case.

An operator who knows ``publishDishonestEntry(entry: {caseNumber, subject:
{residentId, name}, ...})`` can write an import line with the same names; the
importers read snake_case, so each line passes through :func:`snake_case_keys`
(and, for list entries, :func:`flatten_subject`) first. Lines already in
snake_case are returned as they are, at the cost of one scan of their keys.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["flatten_subject", "snake_case_keys"]

_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


@functools.lru_cache(maxsize=512)  # a file repeats the same few keys on every line
def _snake(name: str) -> str:
    return _HUMP.sub(r"_\1", name).lower()


def snake_case_keys(value: Any) -> Any:
    """``value`` with every object key in snake_case (``caseNumber``: ``case_number``)."""
    if isinstance(value, dict):
        flat = not any(isinstance(item, dict | list) for item in value.values())
        if flat and all(key == key.lower() for key in value):
            return value  # the common case, snake_case already: no copy
        return {_snake(key): snake_case_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snake_case_keys(item) for item in value]
    return value


def flatten_subject(row: dict[str, Any]) -> dict[str, Any]:
    """A list entry's ``subject: {resident_id | credit_code, name}`` (GraphQL's SubjectInput)
    as the flat ``id_type``, ``id_number``, ``name`` the importer reads."""
    subject = row.get("subject")
    if not isinstance(subject, dict):
        return row
    flat = {key: value for key, value in row.items() if key != "subject"}
    if subject.get("resident_id") is not None:
        flat.update(id_type="resident_id", id_number=subject["resident_id"])
    elif subject.get("credit_code") is not None:
        flat.update(id_type="uscc", id_number=subject["credit_code"])
    if subject.get("name") is not None:
        flat["name"] = subject["name"]
    return flat
