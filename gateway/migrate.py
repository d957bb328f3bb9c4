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


def script_heads() -> set[str]:
    """The head revisions this code expects."""
    return set(ScriptDirectory.from_config(_config()).get_heads())


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


def ensure_current(engine: Engine, *, hint: str) -> None:
    """Refuse to go on with a database that is behind (or ahead of) the code.

    Raises:
        DatabaseBehind: with a message that names the command to run.
    """
    have, want = database_heads(engine), script_heads()
    if have == want:
        return
    if not have:
        raise DatabaseBehind(f"The database has no schema yet. Run `{hint}` first.")
    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if have - known:
        raise DatabaseBehind(
            f"The database is at revisions {sorted(have - known)} that this version of "
            "credgate does not know: it is newer than the code."
        )
    raise DatabaseBehind(f"The database schema is behind this version. Run `{hint}`.")
