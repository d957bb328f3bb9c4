"""The OAuth client store of the built-in issuer: the one module that talks SQL for clients.

Client secrets are random 256-bit strings chosen by the gateway; only their
scrypt hash is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, String, Table, insert, select, update
from sqlalchemy.engine import Engine

from gateway.auth.principal import Role
from gateway.db import metadata, read_connection

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("secret_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("court_id", String(64)),
    Column("agency_id", String(64)),
    Column("officer_id", String(64)),
    Column("scopes", String(1024), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    """An scrypt hash of a client secret, salted, in a self-describing string."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches the stored hash (constant time)."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))


@dataclass(frozen=True)
class OAuthClient:
    """A registered client and the principal attributes its tokens carry."""

    client_id: str
    name: str
    secret_hash: str
    role: Role
    scopes: frozenset[str]
    court_id: str | None = None
    agency_id: str | None = None
    officer_id: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class ClientRegistration:
    """What an operator asks for when registering a client."""

    name: str
    role: Role
    scopes: frozenset[str]
    court_id: str | None = None
    agency_id: str | None = None
    officer_id: str | None = None


class ClientStore:
    """Reads and writes OAuth clients."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, client_id: str) -> OAuthClient | None:
        """The client with this id, or ``None``."""
        with read_connection(self._engine) as connection:
            row = connection.execute(
                select(oauth_clients).where(oauth_clients.c.client_id == client_id)
            ).first()
        return None if row is None else _to_client(row._mapping)

    def by_name(self, name: str) -> OAuthClient | None:
        """The client with this name, or ``None``."""
        with read_connection(self._engine) as connection:
            row = connection.execute(
                select(oauth_clients).where(oauth_clients.c.name == name)
            ).first()
        return None if row is None else _to_client(row._mapping)

    def all(self) -> list[OAuthClient]:
        """Every registered client, by client id."""
        with read_connection(self._engine) as connection:
            rows = connection.execute(select(oauth_clients).order_by(oauth_clients.c.client_id))
            return [_to_client(row._mapping) for row in rows]

    def register(
        self,
        registration: ClientRegistration,
        secret: str | None = None,
        client_id: str | None = None,
    ) -> tuple[OAuthClient, str]:
        """Create a client; returns it with its secret (shown once, stored hashed).

        Args:
            registration: What the client is and may do.
            secret: The secret to give it; by default a random 256-bit one.
            client_id: Its id; by default a random ``cg_...`` one.

        Raises:
            sqlalchemy.exc.IntegrityError: the id or name is taken.
        """
        secret = secret or secrets.token_urlsafe(32)
        client_id = client_id or f"cg_{secrets.token_hex(8)}"
        values = {
            "client_id": client_id,
            "name": registration.name,
            "secret_hash": hash_secret(secret),
            "role": registration.role.value,
            "court_id": registration.court_id,
            "agency_id": registration.agency_id,
            "officer_id": registration.officer_id,
            "scopes": " ".join(sorted(registration.scopes)),
            "disabled": False,
            "created_at": datetime.now(UTC),
        }
        with self._engine.begin() as connection:
            connection.execute(insert(oauth_clients).values(**values))
        return _to_client(values), secret

    def reset_secret(self, client_id: str, secret: str | None = None) -> str:
        """Give a client a new secret; returns it (shown once, stored hashed)."""
        secret = secret or secrets.token_urlsafe(32)
        with self._engine.begin() as connection:
            connection.execute(
                update(oauth_clients)
                .where(oauth_clients.c.client_id == client_id)
                .values(secret_hash=hash_secret(secret))
            )
        return secret

    def set_disabled(self, client_id: str, disabled: bool) -> None:
        """Disable a client (its token requests fail with invalid_client) or enable it."""
        with self._engine.begin() as connection:
            connection.execute(
                update(oauth_clients)
                .where(oauth_clients.c.client_id == client_id)
                .values(disabled=disabled)
            )

    def update_attributes(self, client_id: str, registration: ClientRegistration) -> None:
        """Bring a client's role, court, agency, officer and scopes up to date."""
        with self._engine.begin() as connection:
            connection.execute(
                update(oauth_clients)
                .where(oauth_clients.c.client_id == client_id)
                .values(
                    role=registration.role.value,
                    court_id=registration.court_id,
                    agency_id=registration.agency_id,
                    officer_id=registration.officer_id,
                    scopes=" ".join(sorted(registration.scopes)),
                )
            )


def _to_client(row: Mapping[Any, Any]) -> OAuthClient:
    get = row.__getitem__
    return OAuthClient(
        client_id=get("client_id"),
        name=get("name"),
        secret_hash=get("secret_hash"),
        role=Role(get("role")),
        scopes=frozenset(str(get("scopes")).split()),
        court_id=get("court_id"),
        agency_id=get("agency_id"),
        officer_id=get("officer_id"),
        disabled=bool(get("disabled")),
    )
