"""dashboard indexes: a period's cases by opening time, a period's SLA breaches by firing time

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-07 13:00:00

The dashboard groups a period's cases in the database (complaint categories, emotion and
sentiment per day, the drill-down's lists: ``tickets.created_at``) and its SLA breaches by
weekday and hour (``sla_events`` of kind ``breach`` by ``fired_at``).
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])
    op.create_index("ix_sla_events_kind_fired_at", "sla_events", ["kind", "fired_at"])


def downgrade() -> None:
    op.drop_index("ix_sla_events_kind_fired_at", table_name="sla_events")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
