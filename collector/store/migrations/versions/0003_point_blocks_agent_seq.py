"""index point_blocks by (agent_id, seq) for out-of-order delivery state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("point_blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_blocks_agent_id_seq"), ["agent_id", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("point_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_blocks_agent_id_seq"))
