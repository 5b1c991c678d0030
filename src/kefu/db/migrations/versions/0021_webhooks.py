"""webhooks: sources of inbound Standard Webhooks, their receipts, outbound subscriptions;
the call-turn facts of phone messages

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 10:00:00

``webhook_sources`` (phone systems, SMS gateways, app stores, social platforms posting to
/api/v1/channels/webhook/{key}, each with a sealed signing secret), ``webhook_receipts`` (the
event ids taken from each source: a replay is ignored), ``webhook_subscriptions`` (integrations'
subscriptions to kefu's events, delivered through the outbox), and ``messages.call_turn`` (a
phone call's turn: its place in the call and an agent turn's speaking rate).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # ALTER TABLE … ADD COLUMN in place on both engines (a batch copy of messages is not needed).
    op.add_column("messages", sa.Column("call_turn", JSONData, nullable=True))
    op.create_table(
        "webhook_sources",
        sa.Column("id", BigId, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kinds", JSONData, nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("tolerance_seconds", sa.Integer(), nullable=False),
        sa.Column("group_id", BigId, nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_webhook_sources_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_webhook_sources_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_sources")),
        sa.UniqueConstraint("key", name=op.f("uq_webhook_sources_key")),
    )  # fmt: skip
    op.create_table(
        "webhook_receipts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("source_id", BigId, nullable=False),
        sa.Column("webhook_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("outcome", JSONData, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["webhook_sources.id"],
            name=op.f("fk_webhook_receipts_source_id_webhook_sources"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipts")),
        sa.UniqueConstraint(
            "source_id", "webhook_id", name=op.f("uq_webhook_receipts_source_id_webhook_id")
        ),
    )  # fmt: skip
    op.create_index("ix_webhook_receipts_received_at", "webhook_receipts", ["received_at"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("events", JSONData, nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("disabled_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"],
            name=op.f("fk_webhook_subscriptions_created_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("webhook_subscriptions")
    op.drop_index("ix_webhook_receipts_received_at", table_name="webhook_receipts")
    op.drop_table("webhook_receipts")
    op.drop_table("webhook_sources")
    op.drop_column("messages", "call_turn")
