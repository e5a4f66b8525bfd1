"""Warranty claims for products bought elsewhere and uploaded evidence (issue 15, item 2): ``email_verifications``
(a one-time code to the email a customer without an order gives), ``purchase_claims`` (``WAR-E`` cases: no order,
the purchase as stated, one open claim per conversation) and ``evidence`` (uploaded files: proof of purchase, photos
of a defect; linked to a conversation, then to a case).  Downgrade drops the three tables (the claims' rows and the
evidence's rows are lost; the files stay in the upload directory and the audit rows in ``decision_audit``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from policy_engine.store import types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_OPEN = "status = 'open'"


def upgrade() -> None:
    op.create_table('email_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verified_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('email_verifications', schema=None) as batch_op:
        batch_op.create_index('ix_email_verifications_conversation', ['conversation_id', 'created_at'], unique=False)
        batch_op.create_index('ix_email_verifications_email', ['email', 'created_at'], unique=False)

    op.create_table('purchase_claims',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('seller', sa.String(length=200), nullable=False),
    sa.Column('sku', sa.String(length=32), nullable=False),
    sa.Column('purchased_on', sa.Date(), nullable=False),
    sa.Column('price', types.Money(precision=12, scale=2), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('serial_number', sa.String(length=16), nullable=True),
    sa.Column('defect', sa.String(length=500), nullable=False),
    sa.Column('cause', sa.String(length=40), nullable=True),
    sa.Column('claim_deadline', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price >= 0', name='ck_purchase_claims_price'),
    sa.ForeignKeyConstraint(['sku'], ['products.sku'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('purchase_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_purchase_claims_email'), ['email'], unique=False)
        batch_op.create_index('uq_purchase_claim_open_conversation', ['conversation_id'], unique=True,
                              sqlite_where=sa.text(_OPEN), postgresql_where=sa.text(_OPEN))

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('received_at', types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.String(length=16), nullable=True),
    sa.Column('linked_at', types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('receipt', 'defect')", name='ck_evidence_kind'),
    sa.CheckConstraint('size_bytes > 0', name='ck_evidence_size'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('upload_id')
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_conversation_id'), ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_case_id'))
    op.drop_table('evidence')
    with op.batch_alter_table('purchase_claims', schema=None) as batch_op:
        batch_op.drop_index('uq_purchase_claim_open_conversation', sqlite_where=sa.text(_OPEN),
                            postgresql_where=sa.text(_OPEN))
        batch_op.drop_index(batch_op.f('ix_purchase_claims_email'))
    op.drop_table('purchase_claims')
    with op.batch_alter_table('email_verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_email_verifications_email')
        batch_op.drop_index('ix_email_verifications_conversation')
    op.drop_table('email_verifications')
