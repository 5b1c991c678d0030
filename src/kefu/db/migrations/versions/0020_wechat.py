"""wechat: Official Accounts (公众号), their shared access token, followers and media to fetch

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 10:00:00

The WeChat channel (channels/wechat/, services/wechat/): the accounts with their sealed secrets,
one access-token row per account shared by every process, the followers of each account (who
subscribed, who left, when they last wrote) and the pictures and voices of customer messages
still to be fetched through the media API.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wechat_accounts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("app_id", sa.String(40), nullable=False),
        sa.Column("app_secret_sealed", sa.Text(), nullable=False),
        sa.Column("token_sealed", sa.Text(), nullable=False),
        sa.Column("encoding_aes_key_sealed", sa.Text(), nullable=False),
        sa.Column("message_mode", sa.String(12), nullable=False),
        sa.Column("api_base_url", sa.String(300), nullable=False),
        sa.Column("group_id", BigId, nullable=True),
        sa.Column("bot_mode", sa.String(15), nullable=False),
        sa.Column("greeting", sa.String(500), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_wechat_accounts_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_accounts")),
        sa.UniqueConstraint("key", name=op.f("uq_wechat_accounts_key")),
    )  # fmt: skip
    op.create_table(
        "wechat_access_tokens",
        sa.Column("account_id", BigId, autoincrement=False, nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("expires_at", When, nullable=True),
        sa.Column("refreshed_at", When, nullable=True),
        sa.Column("refreshes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["wechat_accounts.id"],
            name=op.f("fk_wechat_access_tokens_account_id_wechat_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_wechat_access_tokens")),
    )  # fmt: skip
    op.create_table(
        "wechat_followers",
        sa.Column("id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("customer_id", BigId, nullable=True),
        sa.Column("subscribed", sa.Boolean(), nullable=True),
        sa.Column("subscribed_at", When, nullable=True),
        sa.Column("unsubscribed_at", When, nullable=True),
        sa.Column("last_seen_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["wechat_accounts.id"],
            name=op.f("fk_wechat_followers_account_id_wechat_accounts"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"],
            name=op.f("fk_wechat_followers_customer_id_customers"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_followers")),
        sa.UniqueConstraint("account_id", "openid", name=op.f("uq_wechat_followers_account_id_openid")),
    )  # fmt: skip
    op.create_index("ix_wechat_followers_openid", "wechat_followers", ["openid"], unique=False)
    op.create_table(
        "wechat_media",
        sa.Column("id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("media_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("fetched_at", When, nullable=True),
        sa.Column("gave_up_at", When, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["wechat_accounts.id"],
            name=op.f("fk_wechat_media_account_id_wechat_accounts"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_media")),
        sa.UniqueConstraint("external_id", name=op.f("uq_wechat_media_external_id")),
    )  # fmt: skip
    op.create_index(
        "ix_wechat_media_due", "wechat_media", ["fetched_at", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_wechat_media_due", table_name="wechat_media")
    op.drop_table("wechat_media")
    op.drop_index("ix_wechat_followers_openid", table_name="wechat_followers")
    op.drop_table("wechat_followers")
    op.drop_table("wechat_access_tokens")
    op.drop_table("wechat_accounts")
