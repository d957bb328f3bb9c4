"""Every error gets a stable code; anything untyped is masked.

Typed errors keep their message and carry ``extensions.code``; errors about the
document itself (syntax, validation, limits) keep their message with
``GRAPHQL_VALIDATION_FAILED``; anything else is an internal error: logged with
its traceback, shown as "Internal error." with ``INTERNAL_ERROR``.
"""

from __future__ import annotations

from typing import Any

import structlog
from graphql.error import GraphQLError, GraphQLSyntaxError

from gateway.errors import error_extensions

log = structlog.get_logger("gateway.graphql")

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"


def classify(error: GraphQLError) -> GraphQLError:
    """The error as the client may see it."""
    original = error.original_error
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        error.extensions = {"code": PARSE_FAILED}
        return error
    typed = error_extensions(original)
    if typed is not None:
        error.extensions = dict(typed)
        return error
    # No original error (validation, limits) or no path (variable coercion, which
    # runs before any resolver): the message is about the caller's own document
    # or variables, so it is kept.
    if original is None or error.path is None:
        error.extensions = {**(error.extensions or {}), "code": VALIDATION_FAILED}
        return error
    log.error("unexpected_error", path=error.path, exc_info=original)
    return GraphQLError(
        "Internal error.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_ERROR"},
    )


def classify_all(errors: list[GraphQLError] | None) -> list[dict[str, Any]]:
    """The formatted errors of a result, each classified.

    Their tracebacks are dropped once classified (an unexpected one is logged
    with it first): a traceback holds the frames that hold the error, a
    reference cycle that would leave the request to the cyclic collector
    (gateway.memory).
    """
    formatted = []
    for error in errors or []:
        formatted.append(dict(classify(error).formatted))
        error.__traceback__ = None
        if error.original_error is not None:
            error.original_error.__traceback__ = None
    return formatted
