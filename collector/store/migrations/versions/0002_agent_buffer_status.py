"""agent buffer status from heartbeats

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("buffered_points", "buffered_bytes", "oldest_unacked_ts_ms", "dropped_from_ms", "dropped_to_ms", "heartbeat_ms")


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
