"""``explainField``: how one field would be shown to the caller in a case, and why.

It answers "why was this field masked?" from inside the gateway: the same facts
an investigation establishes (the case from gateway.authority, the subject
matched by blind index in the case store) go to the same field policy
(``services.field_policy``) the federation asks before fan-out. Unlike an
investigation it refuses nothing the caller may ask about: a closed case, an
unassigned officer or an auditor gets the decision those facts lead to (usually
``DENIED``) and the ids of the policies that made it. No agency is asked.
"""

from __future__ import annotations

import datetime

import strawberry
from strawberry.types import Info

from connectors.catalog import DATASETS
from connectors.subject import Subject
from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.authority import load_case, parse_case_number
from gateway.case_store import Case
from gateway.context import RequestContext
from gateway.errors import BadUserInput, NotFound
from gateway.field_policy import AccessContext, FieldDecision, FieldRef, Visibility
from gateway.schema.permissions import requires_scope
from gateway.schema.subject import SubjectInput

__all__ = ["ExplainQuery", "FieldExplanation"]

FieldVisibility = strawberry.enum(
    Visibility,
    name="FieldVisibility",
    description="How a field is shown: in full, masked, or not at all.",
)


@strawberry.type(description="The decision on one field for the caller, with its reasons.")
class FieldExplanation:
    case_number: str
    agency_kind: str
    dataset: str
    field: str
    decision: FieldVisibility  # type: ignore[valid-type]
    policy_ids: list[str] = strawberry.field(
        description="The policies that decided it; empty when nothing permits the field "
        "(Cedar denies by default)."
    )
    max_record_age_days: int | None = strawberry.field(
        description="For time-stamped records: how old a record may be and still be shown."
    )
    policy_set_hash: str


def _field_ref(dataset: str, field: str) -> FieldRef:
    spec = DATASETS.get(dataset)
    if spec is None:
        known = ", ".join(sorted(DATASETS))
        raise BadUserInput(f"No dataset {dataset!r}; the catalog has {known}.", field="dataset")
    if field not in spec.field_names:
        known = ", ".join(sorted(spec.field_names))
        raise BadUserInput(f"{dataset} has no field {field!r}; it has {known}.", field="field")
    return FieldRef(spec.agency_kind, spec.name, field)


def _facts(context: RequestContext, case: Case, subject: Subject) -> AccessContext:
    """What an investigation under ``case`` would establish, without refusing."""
    principal = context.principal
    officer = principal.officer_id if principal.role is Role.OFFICER else None
    now = datetime.datetime.now(datetime.UTC)
    return AccessContext(
        case_open=case.allows_inquiry,
        officer_assigned=case.is_assigned(officer),
        subject_is_respondent=context.services.cases.respondent(case, subject) is not None,
        request_time=now,
        document_type=case.document.type,
        document_valid=case.document.valid_on(now.date()),
        case_court=case.court.id,
    )


@strawberry.type
class ExplainQuery:
    @strawberry.field(
        description="How `field` of `dataset` would be shown to you when investigating "
        "`subject` under `caseNumber`, and which policies decide it. No agency is asked.",
        permission_classes=[requires_scope(scopes.POLICY_EXPLAIN)],
    )
    async def explain_field(
        self,
        info: Info[RequestContext, None],
        case_number: str,
        subject: SubjectInput,
        dataset: str,
        field: str,
    ) -> FieldExplanation:
        context = info.context
        record = context.access.record
        record.operation = "explainField"
        number = parse_case_number(case_number)
        chosen = subject.to_subject()
        ref = _field_ref(dataset, field)
        record.case_number, record.subjects = number, [chosen.id_number]
        case = await load_case(context, number)
        if case is None:
            raise NotFound(f"No case {number} is on record.")
        record.court_id = case.court.id
        policy = context.services.field_policy
        record.policy_set_hash = policy.policy_set_hash
        decided = policy.decide(context.principal, _facts(context, case, chosen), [ref])
        decision = decided.get(ref, FieldDecision(Visibility.DENIED))
        return FieldExplanation(
            case_number=number,
            agency_kind=ref.agency_kind,
            dataset=ref.dataset,
            field=ref.name,
            decision=decision.visibility,
            policy_ids=list(decision.policy_ids),
            max_record_age_days=decision.max_record_age_days,
            policy_set_hash=policy.policy_set_hash,
        )
