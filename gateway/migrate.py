"""Alembic migrations driven from code: upgrade, and the "is the database behind" check.

Each domain has its own branch off the foundation revision (``foundation``,
``cases``, ``audit`` ...), so ``upgrade`` goes to all heads.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from gateway.errors import CredgateError


class DatabaseBehind(CredgateError):
    """The database schema is older than this code; the gateway refuses to start."""

    code = "DATABASE_BEHIND"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "gateway:migrations")
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def script_heads() -> set[str]:
    """The head revisions this code expects."""
    return set(_scripts().get_heads())


def database_heads(engine: Engine) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def upgrade(engine: Engine) -> tuple[set[str], set[str]]:
    """Upgrade the database to every head; returns (before, after) revisions."""
    before = database_heads(engine)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    return before, database_heads(engine)


def pending_revisions(have: set[str], script: ScriptDirectory | None = None) -> list[str]:
    """The revisions an upgrade to every head would apply to a database at ``have``.

    A database is current when every head of the scripts is an ancestor-or-self
    of its revisions, counting ``depends_on`` as well as ``down_revision``: when
    a migration depends on another branch, Alembic records only the dependent
    revision, so the database lists fewer heads than the scripts do. Rather than
    compare head sets, this asks Alembic's own upgrade walk what is left to do.

    Args:
        have: The database's revisions (:func:`database_heads`).
        script: The migrations (the gateway's own by default).

    Returns:
        The revision ids, oldest first; empty when the database is current.

    Raises:
        DatabaseBehind: ``have`` names revisions the scripts do not know.
    """
    script = script or _scripts()
    known = {revision.revision for revision in script.walk_revisions()}
    if have - known:
        raise DatabaseBehind(
            f"The database is at revisions {sorted(have - known)} that this version of "
            "credgate does not know: it is newer than the code."
        )
    lower = tuple(sorted(have)) or None
    walk = script.iterate_revisions("heads", lower, implicit_base=True)
    return [revision.revision for revision in reversed(list(walk))]


def ensure_current(engine: Engine, *, hint: str, script: ScriptDirectory | None = None) -> None:
    """Refuse to go on with a database that is behind (or ahead of) the code.

    Args:
        engine: The database.
        hint: The command that upgrades it, for the message.
        script: The migrations (the gateway's own by default).

    Raises:
        DatabaseBehind: with a message that names the command to run.
    """
    have = database_heads(engine)
    if not have:
        raise DatabaseBehind(f"The database has no schema yet. Run `{hint}` first.")
    if pending_revisions(have, script):
        raise DatabaseBehind(f"The database schema is behind this version. Run `{hint}`.")
