"""role-play trainer: sessions and their turns

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "training_sessions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("trainee_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("scenario_id", sa.String(length=80), nullable=False),
        sa.Column("scenario_title", sa.String(length=200), nullable=False),
        sa.Column("scenario_hash", sa.String(length=64), nullable=False),
        sa.Column("assigned_by_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("progress", JSONData, nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("report", JSONData, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("started_at", When, nullable=True),
        sa.Column("ended_at", When, nullable=True),
    )  # fmt: skip
    op.create_index("ix_training_sessions_trainee", "training_sessions", ["trainee_id", "id"])
    op.create_table(
        "training_turns",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("session_id", BigId, sa.ForeignKey("training_sessions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=80), nullable=True),
        sa.Column("emotion", sa.String(length=20), nullable=True),
        sa.Column("reaction", sa.String(length=20), nullable=True),
        sa.Column("signals", JSONData, nullable=True),
        sa.Column("findings", JSONData, nullable=True),
        sa.Column("created_at", When, nullable=False),
    )  # fmt: skip
    op.create_index("ix_training_turns_session", "training_turns", ["session_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_training_turns_session", table_name="training_turns")
    op.drop_table("training_turns")
    op.drop_index("ix_training_sessions_trainee", table_name="training_sessions")
    op.drop_table("training_sessions")
