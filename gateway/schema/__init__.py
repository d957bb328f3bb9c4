"""The GraphQL schema: root types merged from the domains, and the operation limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_limit_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext

from gateway.schema.executor import ReleasingExecutionContext
from gateway.schema.prepared import PreparedOperations
from gateway.schema.root import MUTATION_TYPES, QUERY_TYPES
from gateway.settings import GraphQLLimits

# graphql-core's did_you_mean(): " Did you mean 'a', 'b' or 'c'?" (quoted names, one "?").
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


class CredgateSchema(strawberry.Schema):
    """strawberry's schema, minus its own error logging.

    The endpoint classifies every error (gateway.schema.errors) and logs the
    unexpected ones with the request's context; strawberry's logger would also
    print expected ones, query text included, which may hold an ID number.
    """

    @staticmethod
    def remove_field_suggestion(error: GraphQLError) -> None:
        """Drop every "Did you mean ...?" when suggestions are off, not only on fields.

        strawberry strips it from "Cannot query field" alone; graphql-core also
        suggests argument names, input object fields, enum values and type names
        (validation rules and variable coercion), which would spell out the schema
        that disabled introspection hides.
        """
        if "Did you mean" in error.message:
            error.message = _SUGGESTION.sub("", error.message)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None


def build_schema(limits: GraphQLLimits | None = None) -> strawberry.Schema:
    """Build the schema with its limits, caches and error policy."""
    limits = limits or GraphQLLimits()
    # The depth and alias rules are built once: strawberry's QueryDepthLimiter and
    # MaxAliasesLimiter make a new rule class per operation, and the validation
    # cache is keyed by the rule classes, so it would never hit.
    rules: tuple[type[ASTValidationRule], ...] = (
        depth_limit_rule(limits.max_depth, None),
        alias_limit_rule(limits.max_aliases),
    )
    if not limits.introspection:
        rules = (*rules, NoSchemaIntrospectionCustomRule)
    # A factory, not an instance: strawberry builds extensions per operation; the
    # parser and validation caches are module-level LRUs shared across them.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        partial(PreparedOperations, max_tokens=limits.max_tokens, rules=rules)
    ]
    query = merge_types("Query", tuple(t if isinstance(t, type) else t() for t in QUERY_TYPES))
    mutation = merge_types("Mutation", MUTATION_TYPES) if MUTATION_TYPES else None
    return CredgateSchema(
        query=query,
        mutation=mutation,
        extensions=extensions,
        execution_context_class=ReleasingExecutionContext,
        config=StrawberryConfig(disable_field_suggestions=not limits.field_suggestions),
    )
