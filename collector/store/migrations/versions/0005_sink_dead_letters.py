"""sink_dead_letters: what a metric sink gave up on, with the server's reason

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "sink_dead_letters",
        sa.Column("dead_letter_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("sink", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False, server_default="1"),
        sa.Column("line", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("dead_letter_id", name=op.f("pk_sink_dead_letters")),
    )
    op.create_index(op.f("ix_sink_dead_letters_sink_at_ms"), "sink_dead_letters", ["sink", "at_ms"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sink_dead_letters_sink_at_ms"), table_name="sink_dead_letters")
    op.drop_table("sink_dead_letters")
