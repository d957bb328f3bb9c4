"""The start-up check counts ``depends_on``: a database Alembic upgraded is current.

A temporary migration tree (root; branches ``a`` and ``b``; ``c`` on ``a``
depending on ``b``) is upgraded with Alembic itself. Alembic then records only
``c``, while the scripts' heads are ``b`` and ``c``: a check comparing head sets
would call the database behind and the gateway would refuse to start.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

from gateway import migrate
from gateway.db import create_db_engine

_ENV = """
from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
"""
_REVISION = '''
"""{name}"""
import sqlalchemy as sa
from alembic import op

revision = "{name}"
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
    op.create_table("t_{name}", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("t_{name}")
'''
# name: (down_revision, branch_labels, depends_on)
_TREE = {
    "root": (None, None, None),
    "a": ("root", ("left",), None),
    "b": ("root", ("right",), None),
    "c": ("a", None, "b"),
}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """An Alembic config for the temporary tree."""
    location = tmp_path / "migrations"
    (location / "versions").mkdir(parents=True)
    (location / "env.py").write_text(_ENV, encoding="utf-8")
    for name, (down, labels, depends) in _TREE.items():
        source = _REVISION.format(name=name, down=down, labels=labels, depends=depends)
        (location / "versions" / f"{name}.py").write_text(source, encoding="utf-8")
    alembic_config = Config()
    alembic_config.set_main_option("script_location", str(location))
    return alembic_config


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    """An empty SQLite database."""
    created = create_db_engine(sqlite_url)
    yield created
    created.dispose()


def _upgrade(config: Config, engine: Engine, target: str) -> None:
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def test_a_database_at_every_head_is_current_though_alembic_records_fewer(
    config: Config, engine: Engine
) -> None:
    script = ScriptDirectory.from_config(config)
    _upgrade(config, engine, "heads")

    assert set(script.get_heads()) == {"b", "c"}
    assert migrate.database_heads(engine) == {"c"}  # b is recorded only as c's dependency
    assert migrate.pending_revisions({"c"}, script) == []
    migrate.ensure_current(engine, hint="upgrade", script=script)


def test_a_database_short_of_a_dependency_or_a_branch_is_behind(
    config: Config, engine: Engine
) -> None:
    script = ScriptDirectory.from_config(config)
    _upgrade(config, engine, "a")

    assert migrate.pending_revisions({"a"}, script) == ["b", "c"]
    assert migrate.pending_revisions({"b"}, script) == ["a", "c"]
    everything = migrate.pending_revisions(set(), script)
    assert (everything[0], sorted(everything[1:3]), everything[3]) == ("root", ["a", "b"], "c")
    with pytest.raises(migrate.DatabaseBehind, match=r"behind this version\. Run `upgrade`"):
        migrate.ensure_current(engine, hint="upgrade", script=script)


def test_a_database_at_an_unknown_revision_is_newer_than_the_code(
    config: Config, engine: Engine
) -> None:
    script = ScriptDirectory.from_config(config)
    _upgrade(config, engine, "heads")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'd'"))

    with pytest.raises(migrate.DatabaseBehind, match=r"\['d'\].*newer than the code"):
        migrate.ensure_current(engine, hint="upgrade", script=script)


def test_the_gateways_own_migrations_leave_a_current_database(engine: Engine) -> None:
    with pytest.raises(migrate.DatabaseBehind, match="no schema yet"):
        migrate.ensure_current(engine, hint="credgate db upgrade")
    migrate.upgrade(engine)

    assert migrate.pending_revisions(migrate.database_heads(engine)) == []
    migrate.ensure_current(engine, hint="credgate db upgrade")
