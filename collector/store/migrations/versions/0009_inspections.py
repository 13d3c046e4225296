"""inspections and their reports

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "inspections",
        sa.Column("inspection_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("run_key", sa.String(300), nullable=False),
        sa.Column("customer", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(10), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("period_label", sa.String(40), nullable=False),
        sa.Column("period_start_ms", sa.BigInteger(), nullable=False),
        sa.Column("period_end_ms", sa.BigInteger(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("languages", sa.String(20), nullable=False),
        sa.Column("send", sa.Boolean(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("lease_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("finished_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("number", sa.String(60), nullable=False, server_default=""),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("devices", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("findings", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("result", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("inspection_id", name=op.f("pk_inspections")),
        sa.UniqueConstraint("run_key", name=op.f("uq_inspections_run_key")),
    )
    op.create_index(op.f("ix_inspections_customer_period_start_ms"), "inspections", ["customer", "period_start_ms"])
    op.create_index(op.f("ix_inspections_status"), "inspections", ["status"])
    op.create_table(
        "reports",
        sa.Column("report_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("inspection_id", sa.BigInteger(), nullable=False),
        sa.Column("customer", sa.String(200), nullable=False),
        sa.Column("number", sa.String(60), nullable=False),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("html_gz", sa.LargeBinary(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("html_bytes", sa.BigInteger(), nullable=False),
        sa.Column("pdf_bytes", sa.BigInteger(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_reports")),
        sa.UniqueConstraint("inspection_id", "lang", name=op.f("uq_reports_inspection_id_lang")),
    )
    op.create_index(op.f("ix_reports_customer_created_ms"), "reports", ["customer", "created_ms"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reports_customer_created_ms"), table_name="reports")
    op.drop_table("reports")
    op.drop_index(op.f("ix_inspections_status"), table_name="inspections")
    op.drop_index(op.f("ix_inspections_customer_period_start_ms"), table_name="inspections")
    op.drop_table("inspections")
