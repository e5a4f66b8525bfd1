"""RET-4 hardening: no token in conversation state, per-client throttling, one-time codes (step-up).

* ``verification_attempts.client`` (the channel's keyed hash of the caller's address) and its index;
* ``verification_tokens`` becomes a server-side grant bound to (conversation, order): ``token_hash`` is dropped (no
  token is issued any more), an index on (conversation_id, order_id) is added; existing rows stay valid grants;
* ``verification_codes``: one-time codes sent to the purchase email (only a salted HMAC is stored).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policy_engine.store import types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_verification_attempts_client', ['client', 'created_at'], unique=False)

    with op.batch_alter_table('verification_tokens', schema=None) as batch_op:
        batch_op.drop_column('token_hash')
        batch_op.create_index('ix_verification_tokens_conversation', ['conversation_id', 'order_id'], unique=False)

    op.create_table('verification_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verification_codes', schema=None) as batch_op:
        batch_op.create_index('ix_verification_codes_conversation', ['conversation_id', 'created_at'], unique=False)
        batch_op.create_index('ix_verification_codes_order', ['order_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('verification_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_codes_order')
        batch_op.drop_index('ix_verification_codes_conversation')
    op.drop_table('verification_codes')

    # the grants issued without a token cannot become tokens: they are dropped with the column's return
    op.execute("DELETE FROM verification_tokens")
    with op.batch_alter_table('verification_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_tokens_conversation')
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=False))
        batch_op.create_unique_constraint('uq_verification_tokens_token_hash', ['token_hash'])

    with op.batch_alter_table('verification_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_verification_attempts_client')
        batch_op.drop_column('client')
