"""Federation: from a plan to policy-shaped answers of several agencies.

One investigation runs DESIGN.md §3 steps 6 to 8 here, so no resolver decides
access on its own:

1. **Policy**: every field of the plan is decided in one batch by the
   FieldPolicy; decisions are recorded on the request's AccessRecord.
2. **Requests**: a dataset with no permitted field is not asked at all (the
   agency never sees a query the officer may not make); denied fields are left
   out of the rest; time windows are narrowed by ``max_record_age_days``. An
   agency with nothing to answer is not called.
3. **Intent**: ``context.access.before_fanout()`` makes the audit intent durable;
   if it raises, no agency is asked.
4. **Fan-out** (:mod:`gateway.fanout`): each agency once, concurrently, each
   under its own deadline.
5. **Shape**: each value passes through its decision: full, masked
   (:mod:`gateway.masks`), or a ``FORBIDDEN`` error naming the policies.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from connectors.sdk import DATASETS, AgencyIdentity, DatasetQuery, FetchRequest, Record
from gateway.access_record import AgencyCall, FieldDecisionRecord, FieldOutcome
from gateway.agencies import RegisteredAgency
from gateway.authority import Authority
from gateway.context import RequestContext
from gateway.errors import CredgateError, Forbidden, ServiceUnavailable
from gateway.fanout import AgencyOutcome, decode_value, fan_out
from gateway.field_policy import FieldDecision, FieldRef, Visibility
from gateway.masks import apply_mask
from gateway.plan import Plan, Window

__all__ = ["DatasetAnswer", "ShapedRecord", "federate"]

_DEFAULT_DENY = FieldDecision(Visibility.DENIED)
_OUTCOMES = {
    Visibility.READ: FieldOutcome.RETURNED,
    Visibility.MASKED: FieldOutcome.MASKED,
    Visibility.DENIED: FieldOutcome.DENIED,
}

#: Per dataset, per field name (``members.name`` for nested ones), its decision.
Decisions = Mapping[str, Mapping[str, FieldDecision]]


def _by_dataset(decisions: Mapping[FieldRef, FieldDecision]) -> dict[str, dict[str, FieldDecision]]:
    table: dict[str, dict[str, FieldDecision]] = {}
    for ref, decision in decisions.items():
        table.setdefault(ref.dataset, {})[ref.name] = decision
    return table


@dataclass(frozen=True)
class _Layout:
    """How records of one dataset are shaped in one request, worked out once for all of them."""

    flat: tuple[tuple[str, FieldDecision], ...]
    groups: tuple[tuple[str, tuple[tuple[str, str, FieldDecision], ...]], ...]

    @classmethod
    def of(cls, wanted: frozenset[str], decided: Mapping[str, FieldDecision]) -> _Layout:
        flat: list[tuple[str, FieldDecision]] = []
        groups: dict[str, list[tuple[str, str, FieldDecision]]] = {}
        for name in sorted(wanted):
            head, _, sub = name.partition(".")
            if sub:
                groups.setdefault(head, []).append((sub, name, decided[name]))
            else:
                flat.append((name, decided[name]))
        return cls(tuple(flat), tuple((head, tuple(subs)) for head, subs in groups.items()))


@dataclass(frozen=True)
class ShapedRecord:
    """One record as the caller may see it.

    Attributes:
        agency: The agency that answered it.
        values: Catalog field name to its value, masked value or the error a
            denied field resolves to; a nested group (``members``) maps to a
            list of such mappings, or to an error.
        day: The day of the dataset's time field, for filtering by window.
    """

    agency: AgencyIdentity
    values: Mapping[str, object]
    day: datetime.date | None = None


@dataclass
class DatasetAnswer:
    """What an investigation learnt of one dataset.

    Attributes:
        records: The shaped records of every agency that answered.
        failures: One error per agency that could not answer (code + agency).
        error: Set when the dataset could not be asked at all (denied by policy,
            or no agency serves it); the field is then ``null``.
        window: The window the caller asked for (before policy narrowing).
    """

    records: list[ShapedRecord] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    error: CredgateError | None = None
    window: Window = field(default_factory=Window)


async def federate(
    context: RequestContext, authority: Authority, plan: Plan
) -> dict[str, DatasetAnswer]:
    """Decide, ask and shape: the answers of every dataset in ``plan``.

    Raises:
        Exception: whatever ``before_fanout`` raises (the audit intent could not be
            made durable); no agency has been asked then.
    """
    decisions = _by_dataset(_decide(context, authority, plan))
    answers, queries = _queries(context, plan, decisions, authority.checked_at.date())
    calls = _calls(context, authority, queries)
    asked = [
        AgencyCall(agency.identity.id, {d: sorted(q.fields) for d, q in request.datasets.items()})
        for agency, request in calls
    ]
    context.access.record.agency_calls.extend(asked)
    await context.access.before_fanout()
    outcomes = await fan_out(calls)
    layouts = {name: _Layout.of(plan.fields[name], decisions.get(name, {})) for name in answers}
    for outcome, call in zip(outcomes, asked, strict=True):
        _record_outcome(call, outcome)
        for dataset in outcome.request.datasets:
            answer = answers[dataset]
            if outcome.error is not None:
                answer.failures.append(outcome.error)
                continue
            for row in (outcome.records or {}).get(dataset, []):
                answer.records.append(_shape(outcome.agency, dataset, row, layouts[dataset]))
    return answers


def _queries(
    context: RequestContext, plan: Plan, decisions: Decisions, today: datetime.date
) -> tuple[dict[str, DatasetAnswer], dict[str, dict[str, DatasetQuery]]]:
    """Per dataset its (so far empty) answer; per agency id what to ask of it."""
    answers: dict[str, DatasetAnswer] = {}
    queries: dict[str, dict[str, DatasetQuery]] = {}
    for dataset, wanted in plan.fields.items():
        answers[dataset] = answer = DatasetAnswer(window=plan.window(dataset))
        query = _query(dataset, wanted, decisions, plan.window(dataset), today)
        agencies = context.services.agencies.serving(dataset)
        if isinstance(query, CredgateError):
            answer.error = query
        elif not agencies:
            answer.error = ServiceUnavailable(
                f"No agency serving {dataset} is configured.", dataset=dataset
            )
        elif query is not None:
            for agency in agencies:
                queries.setdefault(agency.identity.id, {})[dataset] = query
    return answers, queries


def _decide(
    context: RequestContext, authority: Authority, plan: Plan
) -> dict[FieldRef, FieldDecision]:
    """One policy batch for every field of the plan, recorded for the audit log."""
    refs = plan.refs()
    policy = context.services.field_policy
    given = policy.decide(context.principal, authority.access_context(), refs) if refs else {}
    # A field the policy does not answer for is denied: deny by default (DESIGN.md §6).
    decisions = {ref: given.get(ref, _DEFAULT_DENY) for ref in refs}
    record = context.access.record
    record.policy_set_hash = policy.policy_set_hash
    record.fields.extend(
        FieldDecisionRecord(
            ref.agency_kind,
            ref.dataset,
            ref.name,
            _OUTCOMES[decision.visibility],
            list(decision.policy_ids),
        )
        for ref, decision in decisions.items()
    )
    return decisions


def _query(
    dataset: str,
    wanted: frozenset[str],
    decisions: Decisions,
    window: Window,
    today: datetime.date,
) -> DatasetQuery | CredgateError | None:
    """What to ask of the dataset: a query, a refusal, or ``None`` (nothing to ask)."""
    spec = DATASETS[dataset]
    decided = decisions.get(dataset, {})
    # A list, not a set: the names are distinct already, and hashing each
    # FieldDecision (a dataclass over an Enum, both hashed in Python) cost more
    # than the rest of this function.
    permitted = [
        (name, decision)
        for name in wanted
        if (decision := decided[name]).visibility is not Visibility.DENIED
    ]
    if not permitted:
        ids = sorted({i for n in wanted for i in decided[n].policy_ids})
        return Forbidden(
            f"Policy does not let you see {spec.description.lower() or dataset} ({dataset}).",
            policyIds=ids,
        )
    if spec.time_field is None:
        return DatasetQuery(frozenset(name for name, _ in permitted))
    ages = [d.max_record_age_days for _, d in permitted if d.max_record_age_days is not None]
    narrowed = window.narrowed(min(ages) if ages else None, today)
    if narrowed.empty:
        return None
    return DatasetQuery(frozenset(name for name, _ in permitted), narrowed.since, narrowed.until)


def _calls(
    context: RequestContext, authority: Authority, queries: Mapping[str, Mapping[str, DatasetQuery]]
) -> list[tuple[RegisteredAgency, FetchRequest]]:
    registry = context.services.agencies
    legal = authority.legal_authority()
    return [
        (
            agency,
            FetchRequest(
                context.request_id, legal, authority.subject, dict(queries[agency.identity.id])
            ),
        )
        for agency in registry
        if agency.identity.id in queries
    ]


def _record_outcome(call: AgencyCall, outcome: AgencyOutcome) -> None:
    call.outcome = "ok" if outcome.error is None else outcome.error.code
    call.latency_ms = outcome.latency_ms
    call.request_digest = outcome.request_digest
    call.response_digest = outcome.response_digest
    call.records = sum(len(rows) for rows in (outcome.records or {}).values())


def _shape(agency: AgencyIdentity, dataset: str, row: Record, layout: _Layout) -> ShapedRecord:
    """Pass every asked value of one record through its decision."""
    values: dict[str, object] = {
        name: _value(dataset, name, row.get(name), decision) for name, decision in layout.flat
    }
    for head, subs in layout.groups:
        if all(decision.visibility is Visibility.DENIED for _, _, decision in subs):
            ids = sorted({i for _, _, decision in subs for i in decision.policy_ids})
            values[head] = _denied(dataset, head, ids)
            continue
        items = row.get(head)
        values[head] = [
            {sub: _value(dataset, name, item.get(sub), decision) for sub, name, decision in subs}
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, dict)
        ]
    day = None
    spec = DATASETS[dataset]
    if spec.time_field is not None:
        moment = decode_value(spec.field(spec.time_field), row.get(spec.time_field))
        day = moment.date() if isinstance(moment, datetime.datetime) else None
    return ShapedRecord(agency, values, day)


def _value(dataset: str, name: str, raw: object, decision: FieldDecision) -> object:
    """The value as the decision allows: full, masked, or the error it resolves to."""
    spec = DATASETS[dataset].field(name)
    if decision.visibility is Visibility.READ:
        # Masked fields stay strings (a masked date is "1990-05"); others are typed.
        return raw if spec.mask is not None else decode_value(spec, raw)
    if decision.visibility is Visibility.MASKED and spec.mask is not None:
        return apply_mask(spec.mask, raw)
    # Denied, or masked without a mask to apply: fail closed.
    return _denied(dataset, name, sorted(decision.policy_ids))


def _denied(dataset: str, name: str, policy_ids: list[str]) -> Forbidden:
    because = f"policies {', '.join(policy_ids)}" if policy_ids else "no policy permitting it"
    return Forbidden(f"You may not see {name} of {dataset} ({because}).", policyIds=policy_ids)
