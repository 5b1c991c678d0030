"""messages whose analysis failed: the error, the attempts and the next retry

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00

A customer message whose analysis raised is stored all the same; these columns flag it for
the retry job (services/intake/analysis_retry.py). Existing messages are not flagged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("analysis_error", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("analysis_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("analysis_retry_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_messages_analysis_retry_at"), ["analysis_retry_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_analysis_retry_at"))
        batch_op.drop_column("analysis_retry_at")
        batch_op.drop_column("analysis_attempts")
        batch_op.drop_column("analysis_error")
