"""The dishonest-debtor list: entries, change feed, sanctions, look-up counts.

Revision ID: 0004_credit_list
Revises: 0001_foundation

Entries name courts of the cases domain's registry (``courts``, 0002_cases) but
carry no foreign key to it: the domains are independent branches, so the list
can be deployed without the cases tables. The list checks the court when an
entry is written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_credit_list"
down_revision = "0001_foundation"
branch_labels = ("credit_list",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_IN_FORCE = sa.text("state != 'removed'")


def upgrade() -> None:
    """Create the tables of gateway.credit_list.store."""
    op.create_table(
        "credit_list_entries",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("id_type", sa.String(16), nullable=False),
        sa.Column("subject_index", sa.String(64), nullable=False),
        sa.Column("id_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("id_masked", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sex", sa.String(8), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("legal_representative", sa.String(100), nullable=True),
        sa.Column("case_number", sa.String(128), nullable=False),
        sa.Column("court_id", sa.String(64), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("basis_issuer", sa.String(128), nullable=False),
        sa.Column("basis_number", sa.String(128), nullable=False),
        sa.Column("obligations", sa.Text(), nullable=False),
        sa.Column("performance", sa.String(32), nullable=False),
        sa.Column("performed_part", sa.Text(), nullable=True),
        sa.Column("circumstance", sa.String(48), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("state_changed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_list_entries")),
    )
    op.create_index(
        "uq_credit_list_entries_active",
        "credit_list_entries",
        ["subject_index", "case_number"],
        unique=True,
        sqlite_where=_IN_FORCE,
        postgresql_where=_IN_FORCE,
    )
    op.create_index("ix_credit_list_entries_name", "credit_list_entries", ["name"])
    op.create_index("ix_credit_list_entries_court_id", "credit_list_entries", ["court_id"])
    op.create_table(
        "credit_list_changes",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_credit_list_changes")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["credit_list_entries.id"],
            name=op.f("fk_credit_list_changes_entry_id_credit_list_entries"),
        ),
    )
    head = op.create_table(
        "credit_list_feed_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_list_feed_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0}])
    _create_oversight_tables()


def _create_oversight_tables() -> None:
    op.create_table(
        "credit_list_sanctions",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("entry_id", _ID, nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("measure", sa.String(48), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_list_sanctions")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["credit_list_entries.id"],
            name=op.f("fk_credit_list_sanctions_entry_id_credit_list_entries"),
        ),
    )
    op.create_index("ix_credit_list_sanctions_applied_on", "credit_list_sanctions", ["applied_on"])
    op.create_table(
        "credit_list_lookups",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("looked_up_on", sa.Date(), nullable=False),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_list_lookups")),
    )
    op.create_index("ix_credit_list_lookups_looked_up_on", "credit_list_lookups", ["looked_up_on"])


def downgrade() -> None:
    """Drop the tables of gateway.credit_list.store."""
    op.drop_table("credit_list_lookups")
    op.drop_table("credit_list_sanctions")
    op.drop_table("credit_list_feed_head")
    op.drop_table("credit_list_changes")
    op.drop_table("credit_list_entries")
