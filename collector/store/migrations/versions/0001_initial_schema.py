"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('customer', sa.String(length=200), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('hostname', sa.String(length=255), server_default='', nullable=False),
    sa.Column('agent_version', sa.String(length=40), server_default='', nullable=False),
    sa.Column('protocol', sa.String(length=40), server_default='', nullable=False),
    sa.Column('capabilities', sa.Text(), server_default='', nullable=False),
    sa.Column('peer', sa.String(length=255), server_default='', nullable=False),
    sa.Column('connected', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('first_seen_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_seen_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('points_stored', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('buffered_batches', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('dropped_points', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agents'))
    )
    op.create_table('cursors',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cursors'))
    )
    op.create_table('devices',
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('kind', sa.String(length=20), server_default='', nullable=False),
    sa.Column('address', sa.String(length=255), server_default='', nullable=False),
    sa.Column('platform', sa.String(length=40), server_default='', nullable=False),
    sa.Column('pollers', sa.Text(), server_default='', nullable=False),
    sa.Column('labels', sa.Text(), server_default='{}', nullable=False),
    sa.Column('first_seen_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_seen_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('agent_id', 'device_id', name=op.f('pk_devices'))
    )
    op.create_table('point_blocks',
    sa.Column('block_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('received_ms', sa.BigInteger(), nullable=False),
    sa.Column('min_ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('max_ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('n_points', sa.Integer(), nullable=False),
    sa.Column('series_ids', sa.LargeBinary(), nullable=False),
    sa.Column('counts', sa.LargeBinary(), nullable=False),
    sa.Column('timestamps', sa.LargeBinary(), nullable=False),
    sa.Column('point_values', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('block_id', name=op.f('pk_point_blocks'))
    )
    with op.batch_alter_table('point_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_blocks_agent_id_max_ts_ms'), ['agent_id', 'max_ts_ms'], unique=False)
        batch_op.create_index(batch_op.f('ix_point_blocks_max_ts_ms'), ['max_ts_ms'], unique=False)

    op.create_table('rollups_hourly',
    sa.Column('series_id', sa.BigInteger(), nullable=False),
    sa.Column('hour_ms', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('sum', sa.Float(), nullable=False),
    sa.Column('min', sa.Float(), nullable=False),
    sa.Column('max', sa.Float(), nullable=False),
    sa.Column('last', sa.Float(), nullable=False),
    sa.Column('last_ts_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('series_id', 'hour_ms', name=op.f('pk_rollups_hourly'))
    )
    op.create_table('series',
    sa.Column('series_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('metric', sa.String(length=200), nullable=False),
    sa.Column('labels', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('series_id', name=op.f('pk_series')),
    sa.UniqueConstraint('agent_id', 'device_id', 'metric', 'labels', name=op.f('uq_series_agent_id_device_id_metric_labels'))
    )


def downgrade() -> None:
    op.drop_table('series')
    op.drop_table('rollups_hourly')
    with op.batch_alter_table('point_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_blocks_max_ts_ms'))
        batch_op.drop_index(batch_op.f('ix_point_blocks_agent_id_max_ts_ms'))

    op.drop_table('point_blocks')
    op.drop_table('devices')
    op.drop_table('cursors')
    op.drop_table('agents')
