"""the outbox, delivery states, web chat channels, live-chat offers and agent statuses

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 15:20:00

Everything kefu sends goes through the outbox (services/outbound/); a reply carries its
delivery state. Web chat widgets have settings of their own; a waiting chat is offered to one
agent at a time; an agent's live-chat status and its periods are recorded. Integrations may
register a callback URL for agents' replies.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webchat_channels",
        sa.Column("id", BigId, nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("allowed_origins", JSONData, nullable=False),
        sa.Column("group_id", BigId, nullable=True),
        sa.Column("greeting", sa.String(500), nullable=False),
        sa.Column("offline_message", sa.String(500), nullable=False),
        sa.Column("offline_form", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_webchat_channels_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_channels")),
        sa.UniqueConstraint("key", name=op.f("uq_webchat_channels_key")),
    )
    op.create_table(
        "webchat_nonces",
        sa.Column("channel_id", BigId, autoincrement=False, nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("expires_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["webchat_channels.id"],
            name=op.f("fk_webchat_nonces_channel_id_webchat_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", "nonce", name=op.f("pk_webchat_nonces")),
    )
    op.create_index(op.f("ix_webchat_nonces_expires_at"), "webchat_nonces", ["expires_at"])
    op.create_table(
        "agent_status_periods",
        sa.Column("id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("started_at", When, nullable=False),
        sa.Column("ended_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_status_periods_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_status_periods")),
    )
    op.create_index(
        "ix_agent_status_periods_user_started", "agent_status_periods", ["user_id", "started_at"]
    )
    op.create_table(
        "outbox",
        sa.Column("id", BigId, nullable=False),
        sa.Column("message_id", BigId, nullable=True),
        sa.Column("ticket_id", BigId, nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", JSONData, nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", When, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("sent_at", When, nullable=True),
        sa.Column("delivered_at", When, nullable=True),
        sa.Column("read_at", When, nullable=True),
        sa.Column("dead_at", When, nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_outbox_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index(op.f("ix_outbox_message_id"), "outbox", ["message_id"])
    op.create_index(op.f("ix_outbox_ticket_id"), "outbox", ["ticket_id"])
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_channel_external_ref", "outbox", ["channel", "external_ref"])

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_state", sa.String(10), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(10), nullable=False, server_default="offline")
        )
        batch_op.add_column(sa.Column("status_since", When, nullable=True))
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_url", sa.String(500), nullable=True))
        batch_op.add_column(sa.Column("callback_secret", sa.String(100), nullable=True))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_offer_user_id", BigId, nullable=True))
        batch_op.add_column(sa.Column("chat_offer_expires_at", When, nullable=True))
        batch_op.add_column(
            sa.Column("chat_passed_by", JSONData, nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column("chat_accepted_at", When, nullable=True))
        batch_op.add_column(sa.Column("webchat_channel_id", BigId, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_tickets_chat_offer_expires_at"), ["chat_offer_expires_at"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_chat_offer_user_id_users"),
            "users",
            ["chat_offer_user_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_webchat_channel_id_webchat_channels"),
            "webchat_channels",
            ["webchat_channel_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_webchat_channel_id_webchat_channels"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_chat_offer_user_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_tickets_chat_offer_expires_at"))
        for column in ("webchat_channel_id", "chat_accepted_at", "chat_passed_by",
                       "chat_offer_expires_at", "chat_offer_user_id"):  # fmt: skip
            batch_op.drop_column(column)
    with op.batch_alter_table("integrations", schema=None) as batch_op:
        batch_op.drop_column("callback_secret")
        batch_op.drop_column("callback_url")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("status_since")
        batch_op.drop_column("status")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("delivery_state")
    op.drop_table("outbox")
    op.drop_index("ix_agent_status_periods_user_started", table_name="agent_status_periods")
    op.drop_table("agent_status_periods")
    op.drop_index(op.f("ix_webchat_nonces_expires_at"), table_name="webchat_nonces")
    op.drop_table("webchat_nonces")
    op.drop_table("webchat_channels")
