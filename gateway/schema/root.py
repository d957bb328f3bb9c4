"""The root types: each domain contributes its query and mutation types here.

Adding a domain is one line in ``QUERY_TYPES`` (and ``MUTATION_TYPES``); the
resolvers live in the domain's own module.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.audit.schema import AuditQuery
from gateway.credit_list.schema import CreditListMutation, CreditListQuery
from gateway.measures.schema import MeasuresMutation, MeasuresQuery
from gateway.schema.agencies import AgenciesQuery
from gateway.schema.cases import CasesQuery
from gateway.schema.explain import ExplainQuery
from gateway.schema.investigation import investigation_query
from gateway.schema.me import MeQuery

# A callable builds its type when the schema is built (investigation types follow the
# registered agency kinds, which configuration may extend).
QUERY_TYPES: tuple[type | Callable[[], type], ...] = (
    MeQuery,
    CreditListQuery,
    AuditQuery,
    investigation_query,
    CasesQuery,
    AgenciesQuery,
    ExplainQuery,
    MeasuresQuery,
)
MUTATION_TYPES: tuple[type, ...] = (CreditListMutation, MeasuresMutation)
