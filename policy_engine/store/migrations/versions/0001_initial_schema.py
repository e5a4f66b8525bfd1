"""Initial schema: catalogue, orders, cases, refunds, credits ledger, identity checks, decision audit.

Revision ID: 0001
Revises: 
Create Date: 2025-01-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policy_engine.store import types

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=40), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('registered_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('profile_completed_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('decision_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('order_number', sa.String(length=9), nullable=True),
    sa.Column('policy_version', sa.String(length=40), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decision_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_audit_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_audit_order_number'), ['order_number'], unique=False)

    op.create_table('products',
    sa.Column('sku', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('price', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('refurbished_available', sa.Boolean(), nullable=False),
    sa.Column('new_available', sa.Boolean(), nullable=False),
    sa.Column('extended_warranty_eligible', sa.Boolean(), nullable=False),
    sa.CheckConstraint('price >= 0', name='ck_products_price'),
    sa.PrimaryKeyConstraint('sku')
    )
    op.create_table('verification_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('order_number', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('counts_as_failure', sa.Boolean(), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_verification_attempts_conversation', ['conversation_id', 'created_at'], unique=False)
        batch_op.create_index('ix_verification_attempts_order', ['order_number', 'created_at'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_number', sa.String(length=9), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('placed_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paid_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('shipped_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('corporate', sa.Boolean(), nullable=False),
    sa.Column('campaign', sa.String(length=40), nullable=False),
    sa.Column('logged_in', sa.Boolean(), nullable=False),
    sa.Column('shipping', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('tax', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('discount', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('credits_applied', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('worry_free_insurance', sa.Boolean(), nullable=False),
    sa.Column('shipping_insurance', sa.Boolean(), nullable=False),
    sa.Column('payment_method', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_number')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_customer_id'), ['customer_id'], unique=False)

    op.create_table('cancellations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('reversed_points', sa.Integer(), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id'),
    sa.UniqueConstraint('order_id')
    )
    op.create_table('credit_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('unlock_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_ledger_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_ledger_order_id'), ['order_id'], unique=False)

    op.create_table('order_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('discount', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('free_gift', sa.Boolean(), nullable=False),
    sa.Column('redeemed_with_credits', sa.Boolean(), nullable=False),
    sa.Column('extended_warranty_years', sa.Integer(), nullable=False),
    sa.CheckConstraint('extended_warranty_years BETWEEN 0 AND 3', name='ck_order_lines_ext_warranty'),
    sa.CheckConstraint('quantity > 0', name='ck_order_lines_quantity'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku'], ['products.sku'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'line_no', name='uq_order_lines_order_line_no')
    )
    op.create_table('transit_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('problem', sa.String(length=40), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id'),
    sa.UniqueConstraint('order_id')
    )
    op.create_table('verification_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('return_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('condition', sa.String(length=40), nullable=False),
    sa.Column('quality_issue', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['order_lines.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('return_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_cases_order_id'), ['order_id'], unique=False)
        batch_op.create_index('uq_return_open_line', ['line_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('serial_numbers',
    sa.Column('serial', sa.String(length=16), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['order_lines.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('serial')
    )
    with op.batch_alter_table('serial_numbers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_serial_numbers_line_id'), ['line_id'], unique=False)

    op.create_table('warranty_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('serial_number', sa.String(length=16), nullable=True),
    sa.Column('defect', sa.String(length=500), nullable=False),
    sa.Column('cause', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('claim_deadline', sa.Date(), nullable=True),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['order_lines.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('warranty_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warranty_claims_order_id'), ['order_id'], unique=False)
        batch_op.create_index('uq_warranty_open_line', ['line_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('return_case_id', sa.Integer(), nullable=True),
    sa.Column('amount', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('payment_method', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('item_received_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('inspected_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('inspection_passed', sa.Boolean(), nullable=True),
    sa.Column('inspection_finding', sa.String(length=40), nullable=True),
    sa.Column('issued_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount >= 0', name='ck_refunds_amount'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['return_case_id'], ['return_cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('return_case_id')
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_order_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('warranty_claims', schema=None) as batch_op:
        batch_op.drop_index('uq_warranty_open_line', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_warranty_claims_order_id'))

    op.drop_table('warranty_claims')
    with op.batch_alter_table('serial_numbers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_serial_numbers_line_id'))

    op.drop_table('serial_numbers')
    with op.batch_alter_table('return_cases', schema=None) as batch_op:
        batch_op.drop_index('uq_return_open_line', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_return_cases_order_id'))

    op.drop_table('return_cases')
    op.drop_table('verification_tokens')
    op.drop_table('transit_claims')
    op.drop_table('order_lines')
    with op.batch_alter_table('credit_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_ledger_order_id'))
        batch_op.drop_index(batch_op.f('ix_credit_ledger_customer_id'))

    op.drop_table('credit_ledger')
    op.drop_table('cancellations')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_customer_id'))

    op.drop_table('orders')
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_attempts_order')
        batch_op.drop_index('ix_verification_attempts_conversation')

    op.drop_table('verification_attempts')
    op.drop_table('products')
    with op.batch_alter_table('decision_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_audit_order_number'))
        batch_op.drop_index(batch_op.f('ix_decision_audit_case_id'))

    op.drop_table('decision_audit')
    op.drop_table('customers')
