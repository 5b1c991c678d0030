"""bot: the answering bot's conversations, its article offers, and the settings it reads

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-07 07:30:00

A web chat channel's bot mode (off by default: nothing changes for existing channels), the flag
of a case the bot holds (out of the queues until it hands off), a bot message's widget extras,
and the two tables of services/bot/.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN, in place on both engines: a batch copy of the tickets
    # table would lose its expression index (see 0014).
    op.add_column(
        "webchat_channels",
        sa.Column("bot_mode", sa.String(length=15), server_default="off", nullable=False),
    )
    op.add_column(
        "tickets", sa.Column("bot_holds", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("messages", sa.Column("bot_payload", JSONData, nullable=True))
    op.create_table(
        "bot_conversations",
        sa.Column("ticket_id", BigId, autoincrement=False, nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("state", JSONData, nullable=False),
        sa.Column("last_message_id", BigId, nullable=False),
        sa.Column("handoff_reason", sa.String(length=30), nullable=True),
        sa.Column("solved_by_bot", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_bot_conversations_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_bot_conversations")),
    )  # fmt: skip
    op.create_index(
        "ix_bot_conversations_started", "bot_conversations", ["started_at"], unique=False
    )
    op.create_table(
        "bot_article_offers",
        sa.Column("id", BigId, nullable=False),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("article_key", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_bot_article_offers_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"],
            name=op.f("fk_bot_article_offers_message_id_messages"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_article_offers")),
    )  # fmt: skip
    op.create_index(
        "ix_bot_article_offers_offered", "bot_article_offers", ["offered_at"], unique=False
    )
    op.create_index(
        op.f("ix_bot_article_offers_ticket_id"), "bot_article_offers", ["ticket_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_bot_article_offers_ticket_id"), table_name="bot_article_offers")
    op.drop_index("ix_bot_article_offers_offered", table_name="bot_article_offers")
    op.drop_table("bot_article_offers")
    op.drop_index("ix_bot_conversations_started", table_name="bot_conversations")
    op.drop_table("bot_conversations")
    # ALTER TABLE … DROP COLUMN: SQLite 3.35 and later, in place (see upgrade).
    op.drop_column("messages", "bot_payload")
    op.drop_column("tickets", "bot_holds")
    op.drop_column("webchat_channels", "bot_mode")
