"""incidents and their timeline: what the check engine opened and what engineers did about it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "incidents",
        sa.Column("incident_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(64), nullable=False),
        sa.Column("instance", sa.String(300), nullable=False, server_default=""),
        sa.Column("customer", sa.String(200), nullable=False, server_default=""),
        sa.Column("site", sa.String(200), nullable=False, server_default=""),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("happened_ms", sa.BigInteger(), nullable=False),
        sa.Column("seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_fired_ms", sa.BigInteger(), nullable=False),
        sa.Column("resolved_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("closed_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("acknowledged_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("acknowledged_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("plan_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("plan_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("plan_text", sa.Text(), nullable=False, server_default=""),
        sa.Column("flaps", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("flapping", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("title_en", sa.Text(), nullable=False),
        sa.Column("title_zh", sa.Text(), nullable=False),
        sa.Column("analysis_en", sa.Text(), nullable=False),
        sa.Column("analysis_zh", sa.Text(), nullable=False),
        sa.Column("advice_en", sa.Text(), nullable=False),
        sa.Column("advice_zh", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incidents")),
    )
    op.create_index(op.f("ix_incidents_agent_id_device_id_check_id_instance"), "incidents",
                    ["agent_id", "device_id", "check_id", "instance"])
    op.create_index(op.f("ix_incidents_status"), "incidents", ["status"])
    op.create_index(op.f("ix_incidents_customer_happened_ms"), "incidents", ["customer", "happened_ms"])
    op.create_table(
        "incident_timeline",
        sa.Column("entry_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("who", sa.String(100), nullable=False, server_default=""),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_incident_timeline")),
    )
    op.create_index(op.f("ix_incident_timeline_incident_id_at_ms"), "incident_timeline", ["incident_id", "at_ms"])


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_timeline_incident_id_at_ms"), table_name="incident_timeline")
    op.drop_table("incident_timeline")
    op.drop_index(op.f("ix_incidents_customer_happened_ms"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_status"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_agent_id_device_id_check_id_instance"), table_name="incidents")
    op.drop_table("incidents")
