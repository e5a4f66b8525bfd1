"""Evidence of kind ``file`` (issue 16): a file a customer sent while the bot asked something else is held for the
conversation and linked to the next case it opens; ``ck_evidence_kind`` admits it.  Downgrade turns held files into
``defect`` rows first (the constraint of 0005 would refuse them).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_constraint("ck_evidence_kind", type_="check")
        batch_op.create_check_constraint("ck_evidence_kind", "kind IN ('receipt', 'defect', 'file')")


def downgrade() -> None:
    op.execute(sa.text("UPDATE evidence SET kind = 'defect' WHERE kind = 'file'"))
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_constraint("ck_evidence_kind", type_="check")
        batch_op.create_check_constraint("ck_evidence_kind", "kind IN ('receipt', 'defect')")
