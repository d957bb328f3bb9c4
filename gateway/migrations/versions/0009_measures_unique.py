"""Measures: at most one placement pending or in force per asset, enforced by the database.

Revision ID: 0009_measures_unique
Revises: 0007_measures

A unique partial index on ``measures.asset_ref`` over the placements (freeze,
seal up, freeze equity) that are submitted, accepted or executed: two
concurrent orders on one asset can both pass the gateway's check, but only
one insert succeeds (gateway.measures.store.AssetUnderMeasure). SQLite and
PostgreSQL both support partial indexes. A database holding two active
placements on one asset already (possible before this revision) cannot take
the index: the upgrade then fails naming the index, and the surplus measure
must be lifted first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_measures_unique"
down_revision = "0007_measures"
branch_labels = None
depends_on = None

# Verbatim gateway.measures.store.ACTIVE_PLACEMENT at this revision (a migration
# never imports the live model: it must stay what it was when written).
_ACTIVE_PLACEMENT = (
    "kind IN ('freeze', 'seal_up', 'freeze_equity') "
    "AND status IN ('submitted', 'accepted', 'executed')"
)


def upgrade() -> None:
    """Create ``uq_measures_active_placement``."""
    op.create_index(
        "uq_measures_active_placement",
        "measures",
        ["asset_ref"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE_PLACEMENT),
        postgresql_where=sa.text(_ACTIVE_PLACEMENT),
    )


def downgrade() -> None:
    """Drop the index (the gateway's own check remains, without the race's guard)."""
    op.drop_index("uq_measures_active_placement", table_name="measures")
