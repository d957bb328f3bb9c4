"""Each distinct GraphQL document parsed and validated once, under the gateway's limits.

One extension does what strawberry's ``ParserCache``, ``ValidationCache``,
``MaxTokensLimiter``, ``AddValidationRules`` and ``DisableIntrospection`` did
together. strawberry wraps every hook of every extension in a fresh context
manager on every request (``contextlib.contextmanager`` plus
``functools.update_wrapper`` each time): with five extensions that was about
0.25 ms of the gateway's CPU per request in bench.throughput's profile, more
than the parse and validation the caches save. Here there are two hooks.

The caches are module-level LRUs, bounded (an attacker sending random documents
must not grow memory), and keyed by everything their result depends on: the
document text and token limit for parsing; the schema, the parsed document and
the rules for validation. A document over the token limit, or one that does not
parse, raises as before and is not cached.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from graphql.language.parser import parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

__all__ = ["PreparedOperations"]

#: Distinct documents kept (clients send fixed queries).
CACHE_SIZE = 256


@lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@lru_cache(maxsize=CACHE_SIZE)
def _validate(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    return validate_document(schema, document, rules)


class PreparedOperations(SchemaExtension):
    """Parse with a token limit and validate with extra rules, both cached.

    strawberry builds one per operation, so the schema builds ``rules`` once.

    Args:
        max_tokens: Most tokens a document may have (graphql-core's parser stops there).
        rules: Validation rules beyond graphql-core's and strawberry's own (the
            limits, and ``NoSchemaIntrospectionCustomRule`` where introspection is off).
    """

    def __init__(self, *, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        super().__init__()
        self._max_tokens = max_tokens
        self._rules = rules

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            context.graphql_document = _parse(context.query, self._max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            rules = (*context.validation_rules, *self._rules)
            context.validation_rules = rules
            context.pre_execution_errors = _validate(context.schema._schema, document, rules)
        yield
