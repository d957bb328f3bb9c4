"""Audit: events, their subjects and agencies, checkpoints, coordinator rows.

The tables are the ones ``gateway.audit.store`` defines. The coordinator row
(``audit_sequence``) and the integrator lease row are created here, so that
sequencing never needs an upsert race.

Revision ID: 0003_audit
Revises: 0001_foundation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_audit"
down_revision = "0001_foundation"
branch_labels = ("audit",)
depends_on = None


def upgrade() -> None:
    """Create the audit tables and their single-row coordinators."""
    sequence = op.create_table(
        "audit_sequence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("principal_subject", sa.String(128), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=True),
        sa.Column("court_id", sa.String(64), nullable=True),
        sa.Column("officer_id", sa.String(64), nullable=True),
        sa.Column("case_number", sa.String(128), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("receipt_signature", sa.LargeBinary(64), nullable=False),
    )
    for column in ("time_ms", "request_id", "court_id", "officer_id", "case_number"):
        op.create_index(f"ix_audit_events_{column}", "audit_events", [column])
    op.create_table(
        "audit_event_agencies",
        sa.Column("event_idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("agency_id", sa.String(64), primary_key=True),
    )
    op.create_index("ix_audit_event_agencies_agency_id", "audit_event_agencies", ["agency_id"])
    op.create_table(
        "audit_subjects",
        sa.Column("event_idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("blind_index", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_audit_subjects_blind_index", "audit_subjects", ["blind_index"])
    op.create_table(
        "audit_checkpoints",
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    lease = op.create_table(
        "audit_integrator",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("checkpoints", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(sequence, [{"id": 1, "next_index": 0}])
    op.bulk_insert(lease, [{"id": 1, "checkpoints": 0}])


def downgrade() -> None:
    """Drop the audit tables."""
    for table in (
        "audit_integrator",
        "audit_checkpoints",
        "audit_subjects",
        "audit_event_agencies",
        "audit_events",
        "audit_sequence",
    ):
        op.drop_table(table)
