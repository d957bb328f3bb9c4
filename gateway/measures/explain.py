"""``explainMeasure``: whether the caller may order a measure, and which policies decide.

The same facts an order would establish (the case, the assignment, the
respondent, the presiding officer) go to the same ``control`` decision the
order asks (gateway.policy); nothing is refused here and no agency is asked.
A ruling is taken as given: without one an order is refused before any policy.
"""

from __future__ import annotations

import datetime

from connectors.subject import Subject
from gateway.auth.principal import Role
from gateway.authority import load_case
from gateway.context import RequestContext
from gateway.db import run_sync
from gateway.errors import NotFound
from gateway.field_policy import AccessContext
from gateway.measures.orders import NOTICE_TYPE

__all__ = ["explain_control"]


async def explain_control(
    context: RequestContext, case_number: str, subject: Subject, kind: str, dataset: str
) -> tuple[bool, tuple[str, ...]]:
    """The ``control`` decision for ``kind`` on ``dataset`` under the case, and its policies.

    Raises:
        NotFound: no such case.
    """
    record = context.access.record
    record.operation = "explainMeasure"
    record.case_number, record.subjects = case_number, [subject.id_number]
    case = await load_case(context, case_number)
    if case is None:
        raise NotFound(f"No case {case_number} is on record.")
    record.court_id = case.court.id
    principal = context.principal
    officer = principal.officer_id if principal.role is Role.OFFICER else None
    store = context.services.measures
    enforcement = None if store is None else await run_sync(store.enforcement, case_number)
    presiding = enforcement is not None and enforcement.presiding_officer_id == officer
    facts = AccessContext(
        case_open=case.is_open,
        officer_assigned=case.is_assigned(officer),
        subject_is_respondent=context.services.cases.respondent(case, subject) is not None,
        request_time=datetime.datetime.now(datetime.UTC),
        document_type=NOTICE_TYPE,
        document_valid=True,
        case_court=case.court.id,
        extra={"measureKind": kind, "rulingGiven": True, "presidingOfficer": presiding},
    )
    policy = context.services.field_policy
    record.policy_set_hash = policy.policy_set_hash
    decision = policy.decide_control(principal, facts, dataset)
    return decision.allowed, decision.policy_ids
