"""Foundation: OAuth clients of the built-in authorization server.

Revision ID: 0001_foundation
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = ("foundation",)
depends_on = None


def upgrade() -> None:
    """Create the OAuth client table."""
    op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("secret_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("court_id", sa.String(64), nullable=True),
        sa.Column("agency_id", sa.String(64), nullable=True),
        sa.Column("officer_id", sa.String(64), nullable=True),
        sa.Column("scopes", sa.String(1024), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("name", name="uq_oauth_clients_name"),
    )


def downgrade() -> None:
    """Drop the OAuth client table."""
    op.drop_table("oauth_clients")
