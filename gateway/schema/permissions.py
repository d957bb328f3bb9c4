"""Scope requirements on GraphQL fields, as strawberry permission classes."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from gateway.errors import InsufficientScope


def requires_scope(scope: str) -> type[BasePermission]:
    """A permission class that lets the field run only for tokens holding ``scope``."""

    class _RequiresScope(BasePermission):
        message = f"This operation needs the scope '{scope}'."

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            if info.context.principal.has_scope(scope):
                return True
            # Raised rather than returned: the typed error carries the scope, and the
            # endpoint turns it into a 403 with WWW-Authenticate (RFC 6750 §3.1).
            raise InsufficientScope(scope)

    _RequiresScope.__name__ = f"RequiresScope_{scope.replace(':', '_')}"
    return _RequiresScope
