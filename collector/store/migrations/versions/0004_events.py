"""events: SNMP traps and other things that happened, carried in metric batches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "events",
        sa.Column("event_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_at_ms"), "events", ["at_ms"])
    op.create_index(op.f("ix_events_agent_id_device_id_at_ms"), "events", ["agent_id", "device_id", "at_ms"])


def downgrade() -> None:
    op.drop_index(op.f("ix_events_agent_id_device_id_at_ms"), table_name="events")
    op.drop_index(op.f("ix_events_at_ms"), table_name="events")
    op.drop_table("events")
