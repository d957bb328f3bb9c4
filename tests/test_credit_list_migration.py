"""Migration 0006_list_terms on a list written before it: terms from the circumstance."""

from __future__ import annotations

import datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text

from gateway import migrate
from gateway.db import create_db_engine
from tests.conftest import make_settings

_ENTRY = """
INSERT INTO credit_list_entries (id, id_type, subject_index, id_ciphertext, id_masked, name,
  case_number, court_id, filed_on, basis_issuer, basis_number, obligations, performance,
  circumstance, published_on, state)
VALUES (:id, 'resident_id', :index, :blob, 'x', '张伟', :case, 'court-wuzhi', '2024-01-01',
  'b', 'n', 'o', 'not_performed', :circumstance, '2024-02-29', 'published')
"""


def test_existing_entries_get_their_terms(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path / "data", database_url)
    engine = create_db_engine(settings.database_url)
    try:
        config = migrate._config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0004_credit_list")
        with engine.begin() as connection:
            for n, circumstance in enumerate(("refuses_despite_ability", "evades_enforcement")):
                connection.execute(
                    text(_ENTRY),
                    {
                        "id": n + 1,
                        "index": f"i{n}",
                        "blob": b"x",
                        "case": f"c{n}",
                        "circumstance": circumstance,
                    },
                )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT circumstances, term_years, extended_years, expires_on "
                    "FROM credit_list_entries ORDER BY id"
                )
            ).all()
        expiry = rows[1][3]
        if isinstance(expiry, str):  # SQLite through a textual query
            expiry = datetime.date.fromisoformat(expiry)
        assert tuple(rows[0]) == ("refuses_despite_ability", None, 0, None)
        assert tuple(rows[1][:3]) == ("evades_enforcement", 2, 0)
        # Published on 29 February: two years later is 28 February.
        assert expiry == datetime.date(2026, 2, 28)
        assert migrate.pending_revisions(migrate.database_heads(engine)) == []
    finally:
        engine.dispose()
