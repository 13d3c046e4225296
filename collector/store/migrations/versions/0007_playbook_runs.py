"""playbook runs: every remote diagnosis on record, with its output and findings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "playbook_runs",
        sa.Column("run_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("customer", sa.String(200), nullable=False, server_default=""),
        sa.Column("site", sa.String(200), nullable=False, server_default=""),
        sa.Column("playbook_id", sa.String(64), nullable=False),
        sa.Column("playbook_hash", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("params", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("requested_ms", sa.BigInteger(), nullable=False),
        sa.Column("approval", sa.Text(), nullable=False, server_default=""),
        sa.Column("incident_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("sent_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("finished_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("duration_ms", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("findings", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("cancel_requested_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cancel_requested_by", sa.String(100), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_playbook_runs")),
    )
    op.create_index(op.f("ix_playbook_runs_status"), "playbook_runs", ["status"])
    op.create_index(op.f("ix_playbook_runs_agent_id_device_id_requested_ms"), "playbook_runs",
                    ["agent_id", "device_id", "requested_ms"])
    op.create_index(op.f("ix_playbook_runs_incident_id"), "playbook_runs", ["incident_id"])
    op.create_table(
        "playbook_run_output",
        sa.Column("entry_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("step", sa.String(100), nullable=False, server_default=""),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("data", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_playbook_run_output")),
        sa.UniqueConstraint("run_id", "seq", name=op.f("uq_playbook_run_output_run_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("playbook_run_output")
    op.drop_index(op.f("ix_playbook_runs_incident_id"), table_name="playbook_runs")
    op.drop_index(op.f("ix_playbook_runs_agent_id_device_id_requested_ms"), table_name="playbook_runs")
    op.drop_index(op.f("ix_playbook_runs_status"), table_name="playbook_runs")
    op.drop_table("playbook_runs")
