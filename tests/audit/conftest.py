"""Fixtures shared by the audit log's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.audit.log import AuditLog
from gateway.db import create_db_engine
from gateway.keys import load_keys
from tests.conftest import prepare_deployment


@pytest.fixture
def audit(tmp_path: Path, database_url: str) -> Iterator[AuditLog]:
    """The audit log of a fresh deployment (SQLite, and PostgreSQL when configured)."""
    settings = prepare_deployment(tmp_path / "data", database_url)
    engine = create_db_engine(settings.database_url)
    yield AuditLog.from_settings(settings, engine, load_keys(settings.keys_dir))
    engine.dispose()
