"""``credgate db``: migrations."""

from __future__ import annotations

import argparse

from gateway import migrate
from gateway.commands.common import add_location_options, settings_from
from gateway.db import create_db_engine


def _upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args, creates=True)
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.database_url)
    try:
        before, after = migrate.upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        print(f"database already at {', '.join(sorted(after))}")
    else:
        was = ", ".join(sorted(before)) or "empty"
        print(f"database upgraded: {was} -> {', '.join(sorted(after))}")
    return 0


def _status(args: argparse.Namespace) -> int:
    engine = create_db_engine(settings_from(args).database_url)
    try:
        have, want = migrate.database_heads(engine), migrate.script_heads()
    finally:
        engine.dispose()
    print(f"database: {', '.join(sorted(have)) or 'empty'}")
    print(f"code:     {', '.join(sorted(want))}")
    # Heads alone can differ on a current database (depends_on): ask what is left to apply.
    pending = migrate.pending_revisions(have)
    print(f"behind by {len(pending)}: run `credgate db upgrade`" if pending else "up to date")
    return 1 if pending else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``db upgrade`` and ``db status``."""
    parser = subparsers.add_parser("db", help="database migrations (Alembic)")
    commands = parser.add_subparsers(dest="db_command", required=True)
    upgrade = commands.add_parser("upgrade", help="apply every pending migration")
    add_location_options(upgrade)
    upgrade.set_defaults(handler=_upgrade)
    status = commands.add_parser("status", help="show whether the database is up to date")
    add_location_options(status)
    status.set_defaults(handler=_status)
