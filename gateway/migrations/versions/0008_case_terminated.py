"""Cases ended by 终结本次执行程序 (terminated): concluded, but their assets are re-queried.

Revision ID: 0008_case_terminated
Revises: 0002_cases

A terminated case keeps ``status = 'closed'`` in ``cases`` and gets a row in
``case_terminations``; gateway.case_store reads the two as the status
``terminated``. A new table rather than a third status value: the status
column's CHECK constraint could only change on SQLite by copying ``cases``,
and with foreign keys on, dropping the old copy would cascade into the case
officers and respondents.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_case_terminated"
down_revision = "0002_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``case_terminations``."""
    op.create_table(
        "case_terminations",
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("terminated_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("case_number", name=op.f("pk_case_terminations")),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.case_number"],
            name=op.f("fk_case_terminations_case_number_cases"),
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    """Drop ``case_terminations`` (terminated cases read as closed again)."""
    op.drop_table("case_terminations")
