"""staff sign-in: a session's last use (idle timeout), TOTP two-factor with recovery codes,
password-reset tokens

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

When = sa.DateTime(timezone=True)


def _user_id(*, unique: bool = False, primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "user_id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        unique=unique,
        primary_key=primary_key,
    )


def upgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("last_used_at", When, nullable=True))
    op.create_table(
        "staff_two_factor",
        _user_id(primary_key=True),
        sa.Column("secret_sealed", sa.String(length=300), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("enabled_at", When, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        _user_id(),
        sa.Column("code_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("used_at", When, nullable=True),
    )
    op.create_index("ix_staff_recovery_codes_user_id", "staff_recovery_codes", ["user_id"])
    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        _user_id(unique=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("password_reset_tokens")
    op.drop_index("ix_staff_recovery_codes_user_id", table_name="staff_recovery_codes")
    op.drop_table("staff_recovery_codes")
    op.drop_table("staff_two_factor")
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("last_used_at")
