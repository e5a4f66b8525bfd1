"""The order status: parcels (``shipments``) and the order lines each carries (``shipment_lines``).

An order has zero or more shipments: carrier, tracking number, the recorded tracking link (else the policy's
template for the carrier), shipped, expected delivery (a date or a date range), delivered.  Orders stored before
this revision keep their ``shipped_at``/``delivered_at`` and have no shipment (the order status answers "shipped,
no tracking recorded").  Downgrade drops both tables (the parcels are lost; the orders are unchanged).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policy_engine.store import types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('carrier', sa.String(length=40), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('tracking_url', sa.String(length=500), nullable=True),
    sa.Column('shipped_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expected_earliest', sa.Date(), nullable=True),
    sa.Column('expected_latest', sa.Date(), nullable=True),
    sa.Column('delivered_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint(
        '(expected_earliest IS NULL AND expected_latest IS NULL) OR '
        '(expected_earliest IS NOT NULL AND expected_latest IS NOT NULL AND expected_earliest <= expected_latest)',
        name='ck_shipments_expected'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'carrier', 'tracking_number', name='uq_shipments_order_tracking')
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_order_id'), ['order_id'], unique=False)

    op.create_table('shipment_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name='ck_shipment_lines_quantity'),
    sa.ForeignKeyConstraint(['line_id'], ['order_lines.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('shipment_id', 'line_id', name='uq_shipment_lines_shipment_line')
    )
    with op.batch_alter_table('shipment_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_lines_line_id'), ['line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_lines_shipment_id'), ['shipment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shipment_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_lines_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_shipment_lines_line_id'))
    op.drop_table('shipment_lines')

    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_order_id'))
    op.drop_table('shipments')
