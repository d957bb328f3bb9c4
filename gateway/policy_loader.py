"""Loading a directory of Cedar policies: all or nothing, every problem with its line.

A policy directory holds ``schema.cedarschema``, one ``<agency kind>.cedar``
per agency kind of the connector catalog and ``gateway.cedar``. Every policy
must parse, validate against the schema and carry a unique ``@id``; an agency
file may speak only of its own agency's fields and must confine each policy to
them; ``gateway.cedar`` may forbid but never permit reading agency data (that
is each agency's decision). Any problem rejects the whole set, so the gateway
never runs on part of its policies (DESIGN.md §6).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cedarpy

from connectors.catalog import DATASETS, KINDS
from gateway.errors import ConfigError
from gateway.policy_source import (
    Statement,
    confines_to_agency,
    context_attributes,
    entity_agency,
    entity_literals,
    may_permit_data,
    split_statements,
    string_literals,
)

SCHEMA_FILE = "schema.cedarschema"
GATEWAY_FILE = "gateway.cedar"
MAX_RECORD_AGE = "maxRecordAgeDays"
"""Annotation on a permit: how many days old a time-stamped record may be."""


@dataclass(frozen=True)
class PolicyProblem:
    """One thing wrong with a policy file."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


class PolicyLoadError(ConfigError):
    """The policy directory is broken; the gateway must not start on it."""

    code: ClassVar[str] = "POLICY_INVALID"

    def __init__(self, problems: Sequence[PolicyProblem]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more; run `credgate policy check`)"
        reason = f"line {first.line}: {first.reason}" + (more if len(problems) > 1 else "")
        super().__init__(first.path, reason)
        self.problems = tuple(problems)


@dataclass(frozen=True)
class PolicySource:
    """Where a policy came from, for explanations."""

    path: Path
    line: int
    effect: str


@dataclass(frozen=True)
class LoadedPolicies:
    """A validated policy set, ready to decide.

    Attributes:
        directory: the directory it was read from.
        policy_set: the parsed policies, each under its ``@id``.
        schema: the parsed schema.
        annotations: each policy's annotations, by id.
        sources: each policy's file, line and effect, by id.
        context_read: the context attributes any policy reads (``None``: all).
        hash: SHA-256 (hex) of the files, for the audit log.
    """

    directory: Path
    policy_set: cedarpy.PolicySet
    schema: cedarpy.Schema
    annotations: Mapping[str, Mapping[str, str]]
    sources: Mapping[str, PolicySource]
    context_read: frozenset[str] | None
    hash: str


@dataclass
class _Reading:
    """What the checks have gathered so far."""

    schema: cedarpy.Schema | None
    problems: list[PolicyProblem]
    policies: dict[str, dict[str, Any]]
    sources: dict[str, PolicySource]


def policy_set_hash(files: Mapping[str, bytes]) -> str:
    """SHA-256 of the files, each framed by its name and length, in name order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\n{len(files[name])}\n".encode())
        digest.update(files[name])
    return digest.hexdigest()


def _read_files(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        raise PolicyLoadError([PolicyProblem(directory, 0, "not a directory")])
    files = {path.name: path.read_bytes() for path in directory.glob("*.cedar")}
    schema = directory / SCHEMA_FILE
    if schema.is_file():
        files[SCHEMA_FILE] = schema.read_bytes()
    return files


def _read_schema(directory: Path, files: Mapping[str, bytes]) -> _Reading:
    reading = _Reading(None, [], {}, {})
    path = directory / SCHEMA_FILE
    if SCHEMA_FILE not in files:
        reading.problems.append(PolicyProblem(path, 0, "the schema file is missing"))
        return reading
    try:
        reading.schema = cedarpy.Schema.from_str(files[SCHEMA_FILE].decode())
    except (ValueError, UnicodeDecodeError) as error:
        reading.problems.append(PolicyProblem(path, 1, f"schema does not parse: {error}"))
    return reading


def _statement_problems(
    reading: _Reading, schema: cedarpy.Schema, statement: Statement, path: Path
) -> dict[str, Any] | None:
    """Parse and validate one statement; its JSON form if sound, else ``None``."""
    try:
        est = json.loads(cedarpy.policies_to_json_str(statement.text))
    except ValueError as error:
        reading.problems.append(PolicyProblem(path, statement.line, f"syntax error: {error}"))
        return None
    if est.get("templates") or est.get("templateLinks"):
        reading.problems.append(
            PolicyProblem(path, statement.line, "policy templates are not supported")
        )
        return None
    result = cedarpy.validate_policies(statement.text, schema)
    for issue in result.errors:
        # Cedar prefixes "for policy `policy0`, "; the line already says which policy.
        text = issue.error
        reason = text.split(", ", 1)[-1] if text.startswith("for policy") else text
        reading.problems.append(PolicyProblem(path, statement.line, f"schema violation: {reason}"))
    policies = list(est.get("staticPolicies", {}).values())
    return policies[0] if result.validation_passed and len(policies) == 1 else None


def _check_annotations(
    reading: _Reading, policy: dict[str, Any], path: Path, line: int
) -> str | None:
    """The policy's ``@id`` if it has a sound, unique one and sound annotations."""
    annotations = policy.get("annotations", {})
    policy_id = annotations.get("id")
    problems = reading.problems
    if not policy_id:
        problems.append(PolicyProblem(path, line, 'every policy needs an @id("...") annotation'))
    elif policy_id in reading.sources:
        first = reading.sources[policy_id]
        problems.append(
            PolicyProblem(
                path, line, f"duplicate @id {policy_id!r} (first at {first.path}:{first.line})"
            )
        )
        policy_id = None
    if MAX_RECORD_AGE in annotations:
        value = annotations[MAX_RECORD_AGE]
        if policy.get("effect") != "permit" or not value.isdigit() or int(value) <= 0:
            reason = f"@{MAX_RECORD_AGE} must be a positive whole number of days on a permit"
            problems.append(PolicyProblem(path, line, reason))
            policy_id = None
    return policy_id if isinstance(policy_id, str) and policy_id else None


def _scope_problems(policy: dict[str, Any], owner: str) -> list[str]:
    """What an ``owner``'s file (an agency kind, or the gateway) may not say."""
    if owner == "gateway":
        if may_permit_data(policy):
            return ["gateway.cedar may not permit read/readMasked: agency files decide that"]
        return []
    reasons: list[str] = []
    for entity in entity_literals(policy):
        named = entity_agency(entity)
        if named is not None and named[1] != owner:
            reasons.append(f"speaks of another agency's {named[0].lower()} {entity['id']!r}")
        elif named is not None and not _in_catalog(named[0], str(entity["id"])):
            reasons.append(f"names no {named[0].lower()} of the catalog: {entity['id']!r}")
    for text in string_literals(policy):
        other = text.split(".", 1)[0]
        if other in KINDS and other != owner:
            reasons.append(f"speaks of another agency's fields: {text!r}")
    if not confines_to_agency(policy, owner):
        reasons.append(
            f"does not confine itself to {owner}'s fields: scope the resource "
            f'(`resource in Credgate::Agency::"{owner}"`) or add '
            f'`resource.agency == "{owner}"` to its `when`'
        )
    return reasons


def _in_catalog(kind: str, entity_id: str) -> bool:
    if kind == "Agency":
        return entity_id in KINDS
    if kind == "Dataset":
        return entity_id in DATASETS
    dataset, _, name = entity_id.rpartition(".")
    while dataset and dataset not in DATASETS:
        # Nested fields are dotted too ("public_security.household.members.name").
        dataset, _, head = dataset.rpartition(".")
        name = f"{head}.{name}"
    return dataset in DATASETS and name in DATASETS[dataset].field_names


def _read_policy_file(
    reading: _Reading, schema: cedarpy.Schema | None, path: Path, source: bytes
) -> None:
    owner = path.stem
    if owner != "gateway" and owner not in KINDS:
        kinds = ", ".join(sorted(KINDS.names()))
        reason = f"unknown policy file: expected gateway.cedar or <agency kind>.cedar ({kinds})"
        reading.problems.append(PolicyProblem(path, 1, reason))
        return
    try:
        text = source.decode()
    except UnicodeDecodeError as error:
        reading.problems.append(PolicyProblem(path, 1, f"not UTF-8: {error}"))
        return
    if schema is None:
        return  # nothing validates without a schema; its own problem is reported
    for statement in split_statements(text):
        policy = _statement_problems(reading, schema, statement, path)
        if policy is None:
            continue
        policy_id = _check_annotations(reading, policy, path, statement.line)
        scope = _scope_problems(policy, owner)
        reading.problems.extend(PolicyProblem(path, statement.line, r) for r in scope)
        if policy_id is not None and not scope:
            reading.policies[policy_id] = policy
            reading.sources[policy_id] = PolicySource(path, statement.line, policy["effect"])


def check_policy_dir(directory: Path) -> list[PolicyProblem]:
    """Every problem of a policy directory, in file and line order (empty: sound)."""
    try:
        load_policy_dir(directory)
    except PolicyLoadError as error:
        return list(error.problems)
    return []


def _context_read(policies: Mapping[str, dict[str, Any]]) -> frozenset[str] | None:
    read: set[str] = set()
    for policy in policies.values():
        attributes = context_attributes(policy)
        if attributes is None:
            return None
        read |= attributes
    return frozenset(read)


def load_policy_dir(directory: Path) -> LoadedPolicies:
    """Read, parse and validate every policy of ``directory``.

    Raises:
        PolicyLoadError: anything is wrong; ``problems`` lists all of it.
    """
    directory = directory.resolve()
    files = _read_files(directory)
    reading = _read_schema(directory, files)
    schema = reading.schema
    for name in sorted(files):
        if name != SCHEMA_FILE:
            _read_policy_file(reading, schema, directory / name, files[name])
    if schema is None or reading.problems:
        problems = sorted(reading.problems, key=lambda p: (str(p.path), p.line))
        raise PolicyLoadError(problems)
    document = {"staticPolicies": reading.policies, "templates": {}, "templateLinks": []}
    return LoadedPolicies(
        directory=directory,
        policy_set=cedarpy.PolicySet.from_json_str(json.dumps(document)),
        schema=schema,
        annotations={pid: dict(p.get("annotations", {})) for pid, p in reading.policies.items()},
        sources=dict(reading.sources),
        context_read=_context_read(reading.policies),
        hash=policy_set_hash(files),
    )
