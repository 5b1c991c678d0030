"""retention periods: the admins' periods per kind of data, and the indexes the sweep reads

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = sa.DateTime(timezone=True)
INDEXES = (
    ("ix_audit_events_created_at", "audit_events", "created_at"),
    ("ix_inbound_payloads_received_at", "inbound_payloads", "received_at"),
    ("ix_mail_raw_received_at", "mail_raw", "received_at"),
)


def upgrade() -> None:
    op.create_table(
        "retention_policy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("config", JSONData, nullable=False),
        sa.Column(
            "updated_by_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("updated_at", When, nullable=False),
    )
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_table("retention_policy")
