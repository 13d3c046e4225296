"""notifications, mail deliveries and SLA escalations; maintenance windows; incidents folded under a site incident

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("parent_incident_id", sa.BigInteger(), nullable=False, server_default="0"))

    op.create_table(
        "mail_outbox",
        sa.Column("message_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("message_header_id", sa.String(255), nullable=False),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_mail_outbox_key")),
    )
    op.create_table(
        "mail_attachments",
        sa.Column("attachment_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_mail_attachments")),
    )
    op.create_index(op.f("ix_mail_attachments_message_id"), "mail_attachments", ["message_id"])
    op.create_table(
        "mail_deliveries",
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("sent_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("message_id", "recipient", name=op.f("pk_mail_deliveries")),
    )
    op.create_index(op.f("ix_mail_deliveries_status_next_attempt_ms"), "mail_deliveries", ["status", "next_attempt_ms"])
    op.create_table(
        "webhook_outbox",
        sa.Column("hook_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("sent_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("lease_until_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("hook_id", name=op.f("pk_webhook_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_webhook_outbox_key")),
    )
    op.create_index(op.f("ix_webhook_outbox_status_next_attempt_ms"), "webhook_outbox", ["status", "next_attempt_ms"])
    op.create_table(
        "incident_notices",
        sa.Column("notice_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_incident_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_incident_notices_key")),
    )
    op.create_index(op.f("ix_incident_notices_state"), "incident_notices", ["state"])
    op.create_index(op.f("ix_incident_notices_incident_id"), "incident_notices", ["incident_id"])
    op.create_table(
        "maintenance_windows",
        sa.Column("window_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("customer", sa.String(200), nullable=False),
        sa.Column("site", sa.String(200), nullable=False, server_default=""),
        sa.Column("agent_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("device_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("starts_ms", sa.BigInteger(), nullable=False),
        sa.Column("ends_ms", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("released_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("window_id", name=op.f("pk_maintenance_windows")),
    )
    op.create_index(op.f("ix_maintenance_windows_customer_ends_ms"), "maintenance_windows", ["customer", "ends_ms"])
    op.create_table(
        "maintenance_suppressed",
        sa.Column("entry_id", big_id, primary_key=True, autoincrement=True),
        sa.Column("window_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(64), nullable=False),
        sa.Column("instance", sa.String(300), nullable=False, server_default=""),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("thresholds", sa.Text(), nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_maintenance_suppressed")),
    )
    op.create_index(op.f("ix_maintenance_suppressed_window_id"), "maintenance_suppressed", ["window_id"])
    op.create_index(op.f("ix_maintenance_suppressed_agent_id_device_id_check_id_instance"), "maintenance_suppressed",
                    ["agent_id", "device_id", "check_id", "instance"])


def downgrade() -> None:
    op.drop_index(op.f("ix_maintenance_suppressed_agent_id_device_id_check_id_instance"), table_name="maintenance_suppressed")
    op.drop_index(op.f("ix_maintenance_suppressed_window_id"), table_name="maintenance_suppressed")
    op.drop_table("maintenance_suppressed")
    op.drop_index(op.f("ix_maintenance_windows_customer_ends_ms"), table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_index(op.f("ix_incident_notices_incident_id"), table_name="incident_notices")
    op.drop_index(op.f("ix_incident_notices_state"), table_name="incident_notices")
    op.drop_table("incident_notices")
    op.drop_index(op.f("ix_webhook_outbox_status_next_attempt_ms"), table_name="webhook_outbox")
    op.drop_table("webhook_outbox")
    op.drop_index(op.f("ix_mail_deliveries_status_next_attempt_ms"), table_name="mail_deliveries")
    op.drop_table("mail_deliveries")
    op.drop_index(op.f("ix_mail_attachments_message_id"), table_name="mail_attachments")
    op.drop_table("mail_attachments")
    op.drop_table("mail_outbox")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("parent_incident_id")
