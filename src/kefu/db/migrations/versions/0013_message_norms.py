"""a reply's norms check: its norm score, the rules it broke, the override (reason, who)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:30:00

Agents' replies are checked against the communication norms when sent (services/norms.py);
the message keeps the score and rule ids for the norm score over time, and an override of
an error finding keeps its reason and the user. The index serves the scores by agent and day.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DATA = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("norm_score", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("norm_rules", JSON_DATA, nullable=True))
        batch.add_column(sa.Column("norm_override_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("norm_override_by_id", BIG_ID, nullable=True))
        batch.create_foreign_key(
            "fk_messages_norm_override_by_id_users", "users", ["norm_override_by_id"], ["id"]
        )
    op.create_index(
        "ix_messages_norm_author_created",
        "messages",
        ["author_user_id", "created_at"],
        sqlite_where=sa.text("norm_score IS NOT NULL"),
        postgresql_where=sa.text("norm_score IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_norm_author_created", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("fk_messages_norm_override_by_id_users", type_="foreignkey")
        batch.drop_column("norm_override_by_id")
        batch.drop_column("norm_override_reason")
        batch.drop_column("norm_rules")
        batch.drop_column("norm_score")
