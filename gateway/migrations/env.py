"""Alembic environment: runs migrations on the connection `credgate db upgrade` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from gateway.db import metadata

config = context.config


def run_migrations() -> None:
    """Run on a connection given by the caller, else on the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as owned:
        context.configure(connection=owned, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
