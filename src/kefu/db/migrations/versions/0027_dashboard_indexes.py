"""dashboard indexes: a period's cases by opening time, a period's SLA breaches by firing time

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 13:00:00

The dashboard groups a period's cases in the database (complaint categories, emotion and
sentiment per day, the drill-down's lists: ``tickets.created_at``), its SLA breaches by weekday
and hour (``sla_events`` of kind ``breach`` by ``fired_at``), and its drill-down asks of each
case whether it breached (``sla_events`` by ``ticket_id``, ``kind``, ``target``).
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


# On PostgreSQL the columns the dashboard filters and groups by ride along (INCLUDE), so its
# counts read the index alone (kefu/db/models/tickets.py DASHBOARD_COLUMNS, as of this revision).
DASHBOARD_COLUMNS = [
    "merged_into_id", "group_id", "channel", "assignee_id", "case_path", "category", "emotion",
    "sentiment",
]  # fmt: skip


def upgrade() -> None:
    op.create_index(
        "ix_tickets_created_at", "tickets", ["created_at"], postgresql_include=DASHBOARD_COLUMNS
    )
    op.create_index("ix_sla_events_kind_fired_at", "sla_events", ["kind", "fired_at"])
    op.create_index("ix_sla_events_ticket_kind", "sla_events", ["ticket_id", "kind", "target"])


def downgrade() -> None:
    op.drop_index("ix_sla_events_ticket_kind", table_name="sla_events")
    op.drop_index("ix_sla_events_kind_fired_at", table_name="sla_events")
    op.drop_index("ix_tickets_created_at", table_name="tickets")
