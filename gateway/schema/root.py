"""The root types: each domain contributes its query and mutation types here.

Adding a domain is one line in ``QUERY_TYPES`` (and ``MUTATION_TYPES``); the
resolvers live in the domain's own module.
"""

from __future__ import annotations

from gateway.audit.schema import AuditQuery
from gateway.credit_list.schema import CreditListMutation, CreditListQuery
from gateway.measures.schema import MeasuresMutation, MeasuresQuery
from gateway.schema.agencies import AgenciesQuery
from gateway.schema.cases import CasesQuery
from gateway.schema.explain import ExplainQuery
from gateway.schema.investigation import InvestigationQuery
from gateway.schema.me import MeQuery

QUERY_TYPES: tuple[type, ...] = (
    MeQuery,
    CreditListQuery,
    AuditQuery,
    InvestigationQuery,
    CasesQuery,
    AgenciesQuery,
    ExplainQuery,
    MeasuresQuery,
)
MUTATION_TYPES: tuple[type, ...] = (CreditListMutation, MeasuresMutation)
