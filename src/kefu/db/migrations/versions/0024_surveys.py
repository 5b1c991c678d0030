"""surveys: satisfaction surveys and follow-ups, per-channel survey settings

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 11:30:00

One survey per case (surveys.ticket_id unique) with its due time swept like the SLA, how it went
out and the answer; each channel's survey setting as JSON (survey_settings).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", BigId, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("customer_id", BigId, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("kinds", JSONData, nullable=False),
        sa.Column("via", sa.String(length=20), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("skipped", sa.String(length=40), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_via", sa.String(length=20), nullable=True),
        sa.Column("csat", sa.SmallInteger(), nullable=True),
        sa.Column("nps", sa.SmallInteger(), nullable=True),
        sa.Column("ces", sa.SmallInteger(), nullable=True),
        sa.Column("solved", sa.Boolean(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("comment_sentiment", sa.String(length=20), nullable=True),
        sa.Column("flag", sa.String(length=40), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("outbox_id", BigId, sa.ForeignKey("outbox.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("message_id", BigId, sa.ForeignKey("messages.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    op.create_index("ix_surveys_customer_id", "surveys", ["customer_id"])
    op.create_index("ix_surveys_answered_at", "surveys", ["answered_at"])
    op.create_index(
        "ix_surveys_due", "surveys", ["due_at"],
        sqlite_where=sa.text("due_at IS NOT NULL"),
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )  # fmt: skip
    op.create_table(
        "survey_settings",
        sa.Column("channel", sa.String(length=20), primary_key=True),
        sa.Column("config", JSONData, nullable=False),
        sa.Column("updated_by_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("survey_settings")
    op.drop_index("ix_surveys_due", table_name="surveys")
    op.drop_index("ix_surveys_answered_at", table_name="surveys")
    op.drop_index("ix_surveys_customer_id", table_name="surveys")
    op.drop_table("surveys")
