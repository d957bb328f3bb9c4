"""The root types: each domain contributes its query and mutation types here.

Adding a domain is one line in ``QUERY_TYPES`` (and ``MUTATION_TYPES``); the
resolvers live in the domain's own module.
"""

from __future__ import annotations

from gateway.schema.me import MeQuery

QUERY_TYPES: tuple[type, ...] = (MeQuery,)
MUTATION_TYPES: tuple[type, ...] = ()
