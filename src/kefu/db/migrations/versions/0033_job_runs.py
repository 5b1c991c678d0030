"""periodic jobs: each job's last successful round, and its stall alert

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("last_success_at", When, nullable=False),
        sa.Column("stall_alerted_at", When, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
