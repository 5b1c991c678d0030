"""temporary passwords: a password set by someone else (a generated one, an admin's reset) must
be changed at the first sign-in, and stops signing in after its expiry

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )  # fmt: skip
        )
        batch.add_column(
            sa.Column("temporary_password_expires_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("temporary_password_expires_at")
        batch.drop_column("must_change_password")
