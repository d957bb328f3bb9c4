"""Reading Cedar policy files: statements with their lines, and what each one names.

Cedar's parser reports neither the line of a syntax error nor which policy of
a file a validation error belongs to beyond a positional id, so the loader
cuts every file into its statements first (a statement ends at a ``;`` outside
strings and comments) and hands Cedar one statement at a time: every problem
then carries the line where its policy starts. The helpers below read a
policy's JSON form (Cedar's EST) to find what it speaks of.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

NAMESPACE = "Credgate::"
DATA_ACTIONS = frozenset({"read", "readMasked"})
"""The actions on agency data; only agency files may permit them."""


@dataclass(frozen=True)
class Statement:
    """One policy statement of a file: its text and the line it starts on."""

    text: str
    line: int


def split_statements(source: str) -> list[Statement]:
    """Cut Cedar policy text into statements, each with its first line (1-based)."""
    statements: list[Statement] = []
    start: int | None = None
    index, line, start_line = 0, 1, 1
    while index < len(source):
        char = source[index]
        if source.startswith("//", index):
            end = source.find("\n", index)
            index = len(source) if end < 0 else end
            continue
        if char == "\n":
            line += 1
        elif not char.isspace() and start is None:
            start, start_line = index, line
        if char == '"':
            index, line = _skip_string(source, index, line)
            continue
        if char == ";" and start is not None:
            statements.append(Statement(source[start : index + 1], start_line))
            start = None
        index += 1
    if start is not None:
        statements.append(Statement(source[start:], start_line))
    return statements


def _skip_string(source: str, index: int, line: int) -> tuple[int, int]:
    """The index just past the string literal opening at ``index``, and the line there."""
    index += 1
    while index < len(source) and source[index] != '"':
        if source[index] == "\\":
            index += 1
        elif source[index] == "\n":
            line += 1
        index += 1
    return index + 1, line


def entity_agency(entity: dict[str, Any]) -> tuple[str, str] | None:
    """For an ``Agency``/``Dataset``/``Field`` entity literal: its kind and agency."""
    kind = str(entity.get("type", "")).removeprefix(NAMESPACE)
    if kind not in ("Agency", "Dataset", "Field"):
        return None
    return kind, str(entity.get("id", "")).split(".", 1)[0]


def _walk(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def entity_literals(policy: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every entity literal of a policy, in its scope and its conditions."""
    for node in _walk(policy):
        if isinstance(node.get("type"), str) and isinstance(node.get("id"), str):
            yield node


def string_literals(policy: dict[str, Any]) -> Iterator[str]:
    """Every string literal of a policy's conditions, ``like`` patterns included."""
    for node in _walk(policy.get("conditions", [])):
        for key in ("Value", "Literal"):
            if isinstance(node.get(key), str):
                yield node[key]


def _own_entity(node: object, agency: str) -> bool:
    if not isinstance(node, dict):
        return False
    named = entity_agency(node)
    return named is not None and named[1] == agency


def scope_confines(resource_scope: dict[str, Any], agency: str) -> bool:
    """Whether a resource scope admits only fields of ``agency``."""
    op = resource_scope.get("op")
    if op in ("==", "in"):
        return _own_entity(resource_scope.get("entity"), agency)
    if op == "is":
        return _own_entity(resource_scope.get("in", {}).get("entity"), agency)
    return False


def _conjuncts(body: object) -> Iterator[object]:
    if isinstance(body, dict) and "&&" in body:
        yield from _conjuncts(body["&&"].get("left"))
        yield from _conjuncts(body["&&"].get("right"))
    else:
        yield body


def _is_resource_attr(node: object, attrs: tuple[str, ...]) -> bool:
    if not isinstance(node, dict) or "." not in node:
        return False
    access = node["."]
    return bool(access.get("left") == {"Var": "resource"} and access.get("attr") in attrs)


def _conjunct_confines(conjunct: object, agency: str) -> bool:
    if not isinstance(conjunct, dict):
        return False
    if "==" in conjunct:
        sides = (conjunct["=="].get("left"), conjunct["=="].get("right"))
        for attr_side, value_side in (sides, sides[::-1]):
            value = value_side.get("Value") if isinstance(value_side, dict) else None
            if _is_resource_attr(attr_side, ("agency",)) and value == agency:
                return True
            if _is_resource_attr(attr_side, ("dataset",)) and isinstance(value, str):
                return value.split(".", 1)[0] == agency
    if "in" in conjunct and conjunct["in"].get("left") == {"Var": "resource"}:
        right = conjunct["in"].get("right")
        return isinstance(right, dict) and _own_entity(
            right.get("Value", {}).get("__entity"), agency
        )
    return False


def confines_to_agency(policy: dict[str, Any], agency: str) -> bool:
    """Whether a policy can only ever apply to fields of ``agency``.

    True when its resource scope names one of the agency's entities, or when
    one of its ``when`` conditions has, as a top-level conjunct,
    ``resource.agency == "<agency>"``, ``resource.dataset == "<agency>.…"`` or
    ``resource in <an entity of the agency>``.
    """
    if scope_confines(policy.get("resource", {}), agency):
        return True
    for condition in policy.get("conditions", []):
        if condition.get("kind") == "when" and any(
            _conjunct_confines(conjunct, agency) for conjunct in _conjuncts(condition.get("body"))
        ):
            return True
    return False


def may_permit_data(policy: dict[str, Any]) -> bool:
    """Whether a policy permits (or might permit) ``read`` or ``readMasked``."""
    if policy.get("effect") != "permit":
        return False
    action = policy.get("action", {})
    if action.get("op") == "All":
        return True
    entities = action.get("entities") or [action.get("entity") or {}]
    return any(entity.get("id") in DATA_ACTIONS for entity in entities)


def context_attributes(policy: dict[str, Any]) -> frozenset[str] | None:
    """The context attributes a policy reads, or ``None`` if it uses the whole context."""
    found: set[str] = set()
    pending: list[object] = [policy.get("conditions", [])]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            if node == {"Var": "context"}:
                return None
            for accessor in (".", "has"):
                inner = node.get(accessor)
                if isinstance(inner, dict) and inner.get("left") == {"Var": "context"}:
                    found.add(str(inner.get("attr")))
                    break
            else:
                pending.extend(node.values())
    return frozenset(found)
