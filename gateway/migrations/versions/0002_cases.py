"""Cases: courts, officers, enforcement cases, their officers and respondents.

Revision ID: 0002_cases
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_cases"
down_revision = "0001_foundation"
branch_labels = ("cases",)
depends_on = None


def upgrade() -> None:
    """Create the tables of gateway.case_store."""
    op.create_table(
        "courts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courts")),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("court_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officers")),
        sa.ForeignKeyConstraint(
            ["court_id"], ["courts.id"], name=op.f("fk_officers_court_id_courts")
        ),
    )
    op.create_table(
        "cases",
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("court_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("document_type", sa.String(64), nullable=False),
        sa.Column("document_number", sa.String(128), nullable=False),
        sa.Column("document_valid_until", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_number", name=op.f("pk_cases")),
        sa.ForeignKeyConstraint(["court_id"], ["courts.id"], name=op.f("fk_cases_court_id_courts")),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_cases_status")),
    )
    op.create_table(
        "case_officers",
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("case_number", "officer_id", name=op.f("pk_case_officers")),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.case_number"],
            name=op.f("fk_case_officers_case_number_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_case_officers_officer_id_officers")
        ),
    )
    op.create_index(op.f("ix_case_officers_officer_id"), "case_officers", ["officer_id"])
    op.create_table(
        "case_respondents",
        sa.Column("case_number", sa.String(64), nullable=False),
        # The ID number only as a keyed blind index and ciphertext (gateway.case_store).
        sa.Column("subject_index", sa.String(64), nullable=False),
        sa.Column("id_type", sa.String(16), nullable=False),
        sa.Column("id_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("case_number", "subject_index", name=op.f("pk_case_respondents")),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.case_number"],
            name=op.f("fk_case_respondents_case_number_cases"),
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    """Drop the tables of gateway.case_store."""
    op.drop_table("case_respondents")
    op.drop_index(op.f("ix_case_officers_officer_id"), table_name="case_officers")
    op.drop_table("case_officers")
    op.drop_table("cases")
    op.drop_table("officers")
    op.drop_table("courts")
