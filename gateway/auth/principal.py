"""Who is calling: the principal an access token stands for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The kinds of caller the gateway knows."""

    OFFICER = "officer"
    AUDITOR = "auditor"
    AGENCY = "agency"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller, as established by a verified access token.

    Attributes:
        subject: the token's ``sub`` (officer id, auditor id, or client id).
        client_id: the OAuth client that obtained the token.
        role: officer, auditor, agency or admin.
        court_id: the court of an officer, auditor or court admin.
        agency_id: the agency of an agency client.
        officer_id: the officer behind an officer's token.
        scopes: the scopes granted to the token.
        issuer: the token's ``iss``.
        token_id: the token's ``jti``.
    """

    subject: str
    client_id: str
    role: Role
    scopes: frozenset[str]
    issuer: str
    token_id: str
    court_id: str | None = None
    agency_id: str | None = None
    officer_id: str | None = None

    def has_scope(self, scope: str) -> bool:
        """Whether the token was granted ``scope``."""
        return scope in self.scopes
