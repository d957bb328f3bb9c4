"""Field decisions from the Cedar policy set: one batch per request, cached.

``CedarFieldPolicy`` answers the federation's one question (``FieldPolicy``):
for each requested field it asks Cedar about ``read`` and ``readMasked`` in a
single ``is_authorized_batch``; ``read`` permitted gives the full value, else
``readMasked`` the masked value, else the field is denied (Cedar denies by
default and a ``forbid`` overrides every ``permit``). The ids of the policies
that decided travel with each decision, for the error the officer sees and for
the audit record.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cedarpy
import structlog

import gateway
from connectors.catalog import DATASETS
from gateway.auth.principal import Principal, Role
from gateway.errors import ConfigError
from gateway.field_policy import (
    AccessContext,
    ControlDecision,
    FieldDecision,
    FieldRef,
    Visibility,
)
from gateway.policy_loader import (
    MAX_RECORD_AGE,
    SCHEMA_FILE,
    LoadedPolicies,
    PolicyLoadError,
    PolicyProblem,
    load_policy_dir,
)
from gateway.settings import Settings

log = structlog.get_logger("gateway.policy")

DEFAULT_POLICY_DIR = Path(gateway.__file__).resolve().parent.parent / "policies"
"""The shipped policies: ``policies/`` next to the ``gateway`` package, in a checkout and
in an installed wheel alike (pyproject.toml ships it as the package data of ``policies``)."""
DEFAULT_CACHE_SIZE = 10_000
_ENTITY_TYPES = {
    Role.OFFICER: "Credgate::Officer",
    Role.AUDITOR: "Credgate::Auditor",
    Role.AGENCY: "Credgate::AgencyClient",
    Role.ADMIN: "Credgate::Admin",
}
_CacheKey = tuple[str, str, FieldRef]


def _catalog_entities() -> list[dict[str, Any]]:
    """Every agency kind, dataset and field of the catalog as Cedar entities."""
    entities: list[dict[str, Any]] = []
    for kind in sorted({spec.agency_kind for spec in DATASETS.values()}):
        entities.append({"uid": _uid("Agency", kind), "attrs": {}, "parents": []})
    for spec in DATASETS.values():
        entities.append(
            {
                "uid": _uid("Dataset", spec.name),
                "attrs": {"agency": spec.agency_kind},
                "parents": [_uid("Agency", spec.agency_kind)],
            }
        )
        for field_spec in spec.fields:
            attrs = {
                "agency": spec.agency_kind,
                "dataset": spec.name,
                "name": field_spec.name,
                "sensitivity": field_spec.sensitivity,
            }
            uid = _uid("Field", f"{spec.name}.{field_spec.name}")
            entities.append({"uid": uid, "attrs": attrs, "parents": [_uid("Dataset", spec.name)]})
    return entities


def _uid(kind: str, entity_id: str) -> dict[str, str]:
    return {"type": f"Credgate::{kind}", "id": entity_id}


def principal_entity(principal: Principal) -> dict[str, Any]:
    """The Cedar entity standing for a principal: its type by role, its attributes."""
    attrs: dict[str, str] = {"role": principal.role.value}
    if principal.role is Role.AGENCY:
        attrs["agency"] = principal.agency_id or ""
    else:
        attrs["court"] = principal.court_id or ""
    if principal.role is Role.OFFICER:
        attrs["officerId"] = principal.officer_id or principal.subject
    uid = {"type": _ENTITY_TYPES[principal.role], "id": principal.subject}
    return {"uid": uid, "attrs": attrs, "parents": []}


def _cedar_time(moment: datetime) -> str:
    """A Cedar ``datetime`` literal (UTC, milliseconds); a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def cedar_context(principal: Principal, context: AccessContext) -> dict[str, Any]:
    """The Cedar request context (schema type ``RequestContext``)."""
    cedar: dict[str, Any] = {
        "caseOpen": context.case_open,
        "officerAssigned": context.officer_assigned,
        "subjectIsRespondent": context.subject_is_respondent,
        "scopes": sorted(principal.scopes),
        "documentType": context.document_type,
        "documentValid": context.document_valid,
        "requestTime": {"__extn": {"fn": "datetime", "arg": _cedar_time(context.request_time)}},
    }
    if context.case_court is not None:
        cedar["caseCourt"] = context.case_court
    # Facts of a control measure (measureKind, rulingGiven, presidingOfficer).
    cedar.update(context.extra)
    return cedar


@dataclass(frozen=True)
class _Engine:
    """One loaded policy set with the entities it decides over."""

    loaded: LoadedPolicies
    catalog: cedarpy.Entities

    @classmethod
    def build(cls, loaded: LoadedPolicies) -> _Engine:
        entities = cedarpy.Entities.from_json_str(json.dumps(_catalog_entities()), loaded.schema)
        return cls(loaded, entities)

    def context_json(self, cedar: Mapping[str, Any]) -> str:
        """The part of the context the policies read, as canonical JSON.

        Decisions depend on nothing else, so it keys the cache; and Cedar is
        handed only this part, which halves the cost of a batch (parsing the
        context of every request, datetime included, dominates it).
        """
        read = self.loaded.context_read
        used = cedar if read is None else {k: v for k, v in cedar.items() if k in read}
        return json.dumps(used, sort_keys=True, separators=(",", ":"))

    def window(self, policy_ids: Sequence[str]) -> int | None:
        """The narrowest ``@maxRecordAgeDays`` among the deciding permits."""
        days = [
            int(self.loaded.annotations[pid][MAX_RECORD_AGE])
            for pid in policy_ids
            if MAX_RECORD_AGE in self.loaded.annotations.get(pid, {})
        ]
        return min(days) if days else None


def _unique(ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def _field_decision(
    engine: _Engine, read: cedarpy.AuthzResult, masked: cedarpy.AuthzResult
) -> FieldDecision:
    """``read`` permitted: full; else ``readMasked``: masked; else denied, naming the forbids."""
    if read.allowed:
        ids = _unique(sorted(read.diagnostics.reasons))
        return FieldDecision(Visibility.READ, ids, engine.window(ids))
    # On a deny, Cedar's reasons are the forbids that applied; none means default deny.
    forbids = sorted(read.diagnostics.reasons)
    if masked.allowed:
        permits = sorted(masked.diagnostics.reasons)
        return FieldDecision(Visibility.MASKED, _unique(forbids + permits), engine.window(permits))
    return FieldDecision(Visibility.DENIED, _unique(forbids + sorted(masked.diagnostics.reasons)))


def _build_engine(loaded: LoadedPolicies) -> _Engine:
    try:
        return _Engine.build(loaded)
    except ValueError as error:
        reason = f"the catalog's fields do not fit the schema: {error}"
        raise PolicyLoadError([PolicyProblem(loaded.directory / SCHEMA_FILE, 1, reason)]) from None


class CedarFieldPolicy:
    """The ``FieldPolicy`` of the gateway, deciding with Cedar.

    Decisions are cached in a bounded LRU keyed by the principal entity, the
    context attributes the policies actually read and the field: a decision
    depends on nothing else, so the cache changes no answer. ``requestTime``
    is part of the key only if some policy reads it.

    Attributes:
        policy_set_hash: SHA-256 (hex) of the policy files in force.
    """

    def __init__(self, loaded: LoadedPolicies, *, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        self._engine = _build_engine(loaded)
        self._cache: OrderedDict[_CacheKey, FieldDecision] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.policy_set_hash = loaded.hash
        self.hits = 0
        self.misses = 0

    @property
    def loaded(self) -> LoadedPolicies:
        """The policy set in force."""
        return self._engine.loaded

    def decide(
        self, principal: Principal, context: AccessContext, fields: Sequence[FieldRef]
    ) -> Mapping[FieldRef, FieldDecision]:
        """Decide every field in one Cedar batch (cached decisions aside)."""
        engine = self._engine
        entity = principal_entity(principal)
        cedar = cedar_context(principal, context)
        prefix = (
            engine.loaded.hash + json.dumps(entity, sort_keys=True),
            engine.context_json(cedar),
        )
        decisions: dict[FieldRef, FieldDecision] = {}
        misses: list[FieldRef] = []
        with self._lock:
            for ref in dict.fromkeys(fields):
                cached = self._cache.get((*prefix, ref))
                if cached is None:
                    misses.append(ref)
                else:
                    self._cache.move_to_end((*prefix, ref))
                    decisions[ref] = cached
            self.hits += len(decisions)
            self.misses += len(misses)
        if misses:
            fresh = self._evaluate(engine, entity, prefix[1], misses)
            decisions.update(fresh)
            self._remember(prefix, fresh)
        return decisions

    def _remember(self, prefix: tuple[str, str], fresh: Mapping[FieldRef, FieldDecision]) -> None:
        with self._lock:
            for ref, decision in fresh.items():
                self._cache[(*prefix, ref)] = decision
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _evaluate(
        self,
        engine: _Engine,
        entity: dict[str, Any],
        context_json: str,
        fields: Sequence[FieldRef],
    ) -> dict[FieldRef, FieldDecision]:
        # A field the catalog does not declare has no entity: deny it without asking.
        decisions = {ref: FieldDecision(Visibility.DENIED) for ref in fields if not _known(ref)}
        known = [ref for ref in fields if ref not in decisions]
        requests = [
            {
                "principal": entity["uid"],
                "action": {"type": "Credgate::Action", "id": action},
                "resource": _uid("Field", f"{ref.dataset}.{ref.name}"),
                "context": context_json,
            }
            for ref in known
            for action in ("read", "readMasked")
        ]
        if not requests:
            return decisions
        entities = engine.catalog.with_added_json_str(json.dumps([entity]))
        # No schema here: the context is cut to what the policies read, which the
        # schema's request check would reject; the policies were validated at load.
        results = cedarpy.is_authorized_batch(requests, engine.loaded.policy_set, entities)
        for index, ref in enumerate(known):
            read, masked = results[2 * index], results[2 * index + 1]
            if read.diagnostics.errors or masked.diagnostics.errors:
                # A policy that errors is skipped by Cedar (it never grants); say so.
                errors = read.diagnostics.errors + masked.diagnostics.errors
                log.warning(
                    "policy_evaluation_error", field=f"{ref.dataset}.{ref.name}", errors=errors
                )
            decisions[ref] = _field_decision(engine, read, masked)
        return decisions

    def decide_control(
        self, principal: Principal, context: AccessContext, dataset: str
    ) -> ControlDecision:
        """Decide the ``control`` action on ``dataset`` (not cached: measures are rare).

        Returns:
            Permitted or not, with the permits (allowed) or forbids (denied) that decided;
            no ids on a denial means nothing permits it (Cedar denies by default).
        """
        engine = self._engine
        if dataset not in DATASETS:
            return ControlDecision(False)
        entity = principal_entity(principal)
        request = {
            "principal": entity["uid"],
            "action": {"type": "Credgate::Action", "id": "control"},
            "resource": _uid("Dataset", dataset),
            "context": json.dumps(cedar_context(principal, context)),
        }
        entities = engine.catalog.with_added_json_str(json.dumps([entity]))
        (result,) = cedarpy.is_authorized_batch([request], engine.loaded.policy_set, entities)
        if result.diagnostics.errors:
            log.warning(
                "policy_evaluation_error", dataset=dataset, errors=result.diagnostics.errors
            )
        return ControlDecision(result.allowed, _unique(sorted(result.diagnostics.reasons)))

    def reload(self) -> bool:
        """Load the directory again; on any problem keep the set in force and log why.

        Returns:
            Whether the new set is now in force.
        """
        directory = self._engine.loaded.directory
        try:
            engine = _build_engine(load_policy_dir(directory))
        except PolicyLoadError as error:
            log.error(
                "policy_reload_refused",
                directory=str(directory),
                problems=[str(problem) for problem in error.problems],
                kept=self.policy_set_hash,
            )
            return False
        with self._lock:
            self._engine = engine
            self.policy_set_hash = engine.loaded.hash
            self._cache.clear()
        log.info("policy_reloaded", directory=str(directory), hash=self.policy_set_hash)
        return True


def _known(ref: FieldRef) -> bool:
    spec = DATASETS.get(ref.dataset)
    return spec is not None and spec.agency_kind == ref.agency_kind and ref.name in spec.field_names


def field_ref(dotted: str) -> FieldRef:
    """The catalog field a dotted name stands for, e.g. ``bank.accounts.balance``.

    Raises:
        ValueError: the catalog has no such field.
    """
    for spec in DATASETS.values():
        prefix = spec.name + "."
        if dotted.startswith(prefix) and dotted.removeprefix(prefix) in spec.field_names:
            return FieldRef(spec.agency_kind, spec.name, dotted.removeprefix(prefix))
    raise ValueError(f"no field {dotted!r} in the catalog (e.g. bank.accounts.balance)")


def policy_dir(settings: Settings) -> Path:
    """The policy directory: ``[policies] dir`` (relative to the config file) or the shipped one."""
    raw = settings.section("policies").get("dir")
    if raw is None:
        return DEFAULT_POLICY_DIR
    if not isinstance(raw, str):
        raise ConfigError(settings.config_file or "environment", "'policies.dir' must be a string")
    path = Path(raw).expanduser()
    if not path.is_absolute() and settings.config_file is not None:
        path = settings.config_file.parent / path
    return path


def load_field_policy(settings: Settings) -> CedarFieldPolicy:
    """Load and validate the policy directory of ``settings``.

    Raises:
        PolicyLoadError: a policy file is broken (a ``ConfigError``: the gateway refuses to start).
        ConfigError: the ``[policies]`` section is malformed.
    """
    size = settings.section("policies").get("cache_size", DEFAULT_CACHE_SIZE)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        where = settings.config_file or "environment"
        raise ConfigError(where, "'policies.cache_size' must be a whole number >= 0")
    return CedarFieldPolicy(load_policy_dir(policy_dir(settings)), cache_size=size)
