"""social listening: public mentions, the alerts of their spikes and crises, polled feeds

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 10:20:00

Three new tables (services/social/): ``social_mentions`` (one per platform and post id, with
its analysis and the customer and case it belongs to), ``social_alerts`` (spike and crisis
alerts, the mentions that joined them, who acknowledged them) and ``social_feeds`` (JSON feeds
polled on their ``next_poll_at``). Nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "social_mentions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("parent_external_id", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("author_handle", sa.String(length=100), nullable=False),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("posted_at", When, nullable=False),
        sa.Column("received_at", When, nullable=False),
        sa.Column("sentiment", sa.String(length=10), nullable=False),
        sa.Column("emotion", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("intent", sa.String(length=20), nullable=False),
        sa.Column("risks", JSONData, nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("negative", sa.Boolean(), nullable=False),
        sa.Column("risk_reasons", JSONData, nullable=False),
        sa.Column("customer_id", BigId, nullable=True),
        sa.Column("ticket_id", BigId, nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"],
            name=op.f("fk_social_mentions_customer_id_customers"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"],
            name=op.f("fk_social_mentions_ticket_id_tickets"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_mentions")),
        sa.UniqueConstraint(
            "platform", "external_id", name=op.f("uq_social_mentions_platform_external_id")
        ),
    )  # fmt: skip
    op.create_index("ix_social_mentions_posted_at", "social_mentions", ["posted_at"])
    op.create_index(
        "ix_social_mentions_category_posted_at", "social_mentions", ["category", "posted_at"]
    )
    op.create_index(op.f("ix_social_mentions_customer_id"), "social_mentions", ["customer_id"])
    op.create_table(
        "social_alerts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=30), nullable=True),
        sa.Column("window_start", When, nullable=False),
        sa.Column("window_end", When, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("negative_count", sa.Integer(), nullable=False),
        sa.Column("negative_share", sa.Float(), nullable=False),
        sa.Column("baseline_mean", sa.Float(), nullable=False),
        sa.Column("baseline_spread", sa.Float(), nullable=False),
        sa.Column("baseline_negative_share", sa.Float(), nullable=False),
        sa.Column("reasons", JSONData, nullable=False),
        sa.Column("risks", JSONData, nullable=False),
        sa.Column("mention_ids", JSONData, nullable=False),
        sa.Column("last_mention_at", When, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("acknowledged_by_id", BigId, nullable=True),
        sa.Column("acknowledged_at", When, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"],
            name=op.f("fk_social_alerts_acknowledged_by_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_alerts")),
    )  # fmt: skip
    op.create_index(
        "ix_social_alerts_kind_topic_created", "social_alerts", ["kind", "topic", "created_at"]
    )
    op.create_table(
        "social_feeds",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=True),
        sa.Column("next_poll_at", When, nullable=True),
        sa.Column("last_polled_at", When, nullable=True),
        sa.Column("last_count", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_feeds")),
        sa.UniqueConstraint("name", name=op.f("uq_social_feeds_name")),
    )
    op.create_index(op.f("ix_social_feeds_next_poll_at"), "social_feeds", ["next_poll_at"])


def downgrade() -> None:
    op.drop_table("social_feeds")
    op.drop_table("social_alerts")
    op.drop_table("social_mentions")
