"""``myCases``: the enforcement cases the calling officer is assigned to."""

from __future__ import annotations

import datetime

import strawberry
from strawberry.types import Info

from gateway.auth import scopes
from gateway.auth.principal import Role
from gateway.case_store import Case
from gateway.context import RequestContext
from gateway.db import run_sync
from gateway.errors import Forbidden
from gateway.schema.permissions import requires_scope


@strawberry.type(description="A court.")
class Court:
    id: str
    name: str


@strawberry.type(description="The legal document agencies are asked on.")
class LegalDocument:
    type: str = strawberry.field(description="e.g. assistance_inquiry_notice (协助查询通知书).")
    number: str
    valid_until: datetime.date | None


@strawberry.type(description="A judgment debtor named in a case; pass it as `subject`.")
class Respondent:
    resident_id: str | None
    credit_code: str | None
    name: str | None


@strawberry.type(description="An enforcement case.")
class EnforcementCase:
    case_number: str
    court: Court
    status: str = strawberry.field(
        description="open, closed, or terminated (终结本次执行程序: assets may be re-queried)."
    )
    filed_on: datetime.date
    document: LegalDocument
    respondents: list[Respondent]


def _case(case: Case) -> EnforcementCase:
    return EnforcementCase(
        case_number=case.case_number,
        court=Court(id=case.court.id, name=case.court.name),
        status=case.status,
        filed_on=case.filed_on,
        document=LegalDocument(
            type=case.document.type,
            number=case.document.number,
            valid_until=case.document.valid_until,
        ),
        respondents=[
            Respondent(
                resident_id=r.id_number if r.id_type == "resident_id" else None,
                credit_code=r.id_number if r.id_type == "uscc" else None,
                name=r.name,
            )
            for r in case.respondents
        ],
    )


@strawberry.type
class CasesQuery:
    @strawberry.field(
        description="The cases you are assigned to, newest first, with their respondents.",
        permission_classes=[requires_scope(scopes.CASES_READ)],
    )
    async def my_cases(self, info: Info[RequestContext, None]) -> list[EnforcementCase]:
        principal = info.context.principal
        if principal.role is not Role.OFFICER or principal.officer_id is None:
            raise Forbidden("Only enforcement officers have cases; this token is not an officer's.")
        store = info.context.services.cases
        return [
            _case(case) for case in await run_sync(store.cases_of_officer, principal.officer_id)
        ]
