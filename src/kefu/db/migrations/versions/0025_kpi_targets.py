"""kpi targets: the thresholds an admin set for the KPI figures

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 11:40:00

One row per metric an admin overrode; the others keep kefu's defaults (domain/kpi/targets.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_targets",
        sa.Column("metric", sa.String(length=40), primary_key=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column(
            "set_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
        ),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("kpi_targets")
