"""The list after the 2017 provisions: terms, several circumstances, removal kinds, associates.

Revision ID: 0006_list_terms
Revises: 0004_credit_list

Entries gain their circumstances (several), listing term, extension, expiry
date, why they were removed and what replaced them; sanctions the description
of an ``OTHER`` measure; two tables: the people of a listed organisation the
restrictions reach (``credit_list_associates``) and the expiry sweep's lease.
Existing entries get their term from their one circumstance (two years, none
for circumstance (1)), computed here in Python over the rows, since date
arithmetic differs between SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from alembic import op

revision = "0006_list_terms"
down_revision = "0004_credit_list"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _entry_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("circumstances", sa.Text(), nullable=True),
        sa.Column("term_years", sa.Integer(), nullable=True),
        sa.Column("extended_years", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("removal_kind", sa.String(32), nullable=True),
        sa.Column("replaced_by", _ID, nullable=True),
    ]


def upgrade() -> None:
    """Add the columns and tables, and give existing entries their terms."""
    # Plain ADD COLUMN: SQLite supports it, and a batch copy would lose nothing but time.
    for column in _entry_columns():
        op.add_column("credit_list_entries", column)
    op.create_index("ix_credit_list_entries_expires_on", "credit_list_entries", ["expires_on"])
    op.add_column("credit_list_sanctions", sa.Column("measure_detail", sa.Text(), nullable=True))
    op.create_table(
        "credit_list_associates",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("subject_index", sa.String(64), nullable=False),
        sa.Column("id_ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_list_associates")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["credit_list_entries.id"],
            name=op.f("fk_credit_list_associates_entry_id_credit_list_entries"),
        ),
    )
    op.create_index(
        "ix_credit_list_associates_subject_index", "credit_list_associates", ["subject_index"]
    )
    op.create_index("ix_credit_list_associates_entry_id", "credit_list_associates", ["entry_id"])
    lease = op.create_table(
        "credit_list_sweep_lease",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(64), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_list_sweep_lease")),
    )
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    op.bulk_insert(lease, [{"id": 1, "holder": None, "until": epoch}])
    _backfill_terms()


def _backfill_terms() -> None:
    connection = op.get_bind()
    entries = sa.table(
        "credit_list_entries",
        sa.column("id", _ID),
        sa.column("circumstance", sa.String),
        sa.column("circumstances", sa.Text),
        sa.column("published_on", sa.Date),
        sa.column("term_years", sa.Integer),
        sa.column("expires_on", sa.Date),
    )
    rows = connection.execute(
        sa.select(entries.c.id, entries.c.circumstance, entries.c.published_on)
    ).all()
    for entry_id, circumstance, published_on in rows:
        term = None if circumstance == "refuses_despite_ability" else 2
        expiry = None if term is None else _add_years(published_on, term)
        connection.execute(
            sa.update(entries)
            .where(entries.c.id == entry_id)
            .values(circumstances=circumstance, term_years=term, expires_on=expiry)
        )


def _add_years(day: datetime.date, years: int) -> datetime.date:
    # The same rule as gateway.credit_list.terms.add_years (migrations never import the app).
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("credit_list_sweep_lease")
    op.drop_table("credit_list_associates")
    with op.batch_alter_table("credit_list_sanctions") as batch:
        batch.drop_column("measure_detail")
    op.drop_index("ix_credit_list_entries_expires_on", "credit_list_entries")
    with op.batch_alter_table("credit_list_entries") as batch:
        for column in reversed(_entry_columns()):
            batch.drop_column(column.name)
