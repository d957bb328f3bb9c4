"""Measures: control measures, the assets investigations returned, case claims, audit filter.

The tables are the ones ``gateway.measures.store`` defines, plus
``audit_event_measures`` (``gateway.audit.store``), the audit log's projection of
the measures each event is about: it is created here because it exists for
measures, and depends on the audit branch.

Revision ID: 0007_measures
Revises: 0002_cases
Depends on: 0003_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_measures"
down_revision = "0002_cases"
branch_labels = ("measures",)
depends_on = ("0003_audit",)


def upgrade() -> None:
    """Create the measures tables and the audit log's measure projection."""
    op.create_table(
        "measures",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("court_id", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.String(64), nullable=False),
        sa.Column("subject_index", sa.String(64), nullable=False),
        sa.Column("subject_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("asset_ref", sa.String(64), nullable=False),
        sa.Column("asset_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_cents", sa.BigInteger(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("agency_reference", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("ruling_number", sa.String(128), nullable=False),
        sa.Column("ruling_date", sa.Date(), nullable=False),
        sa.Column("notice_number", sa.String(128), nullable=False),
        sa.Column("notice_date", sa.Date(), nullable=False),
        sa.Column("acts_on", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measures")),
        sa.ForeignKeyConstraint(
            ["case_number"], ["cases.case_number"], name=op.f("fk_measures_case_number_cases")
        ),
    )
    op.create_index("ix_measures_case_status_until", "measures", ["case_number", "status", "until"])
    op.create_index("ix_measures_asset_ref", "measures", ["asset_ref"])
    op.create_index("ix_measures_status_updated", "measures", ["status", "updated_at"])
    op.create_table(
        "investigated_assets",
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref", name=op.f("pk_investigated_assets")),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.case_number"],
            name=op.f("fk_investigated_assets_case_number_cases"),
        ),
    )
    op.create_table(
        "case_enforcement",
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("claim_cents", sa.BigInteger(), nullable=False),
        sa.Column("presiding_officer_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("case_number", name=op.f("pk_case_enforcement")),
        sa.ForeignKeyConstraint(
            ["case_number"],
            ["cases.case_number"],
            name=op.f("fk_case_enforcement_case_number_cases"),
        ),
    )
    op.create_table(
        "audit_event_measures",
        sa.Column("event_idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("measure_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("event_idx", "measure_id", name=op.f("pk_audit_event_measures")),
    )
    op.create_index("ix_audit_event_measures_measure_id", "audit_event_measures", ["measure_id"])


def downgrade() -> None:
    """Drop the measures tables and the audit projection."""
    op.drop_table("audit_event_measures")
    op.drop_table("case_enforcement")
    op.drop_table("investigated_assets")
    op.drop_table("measures")
