"""the breach heat map by the moment each clock ran out

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 14:10:00

The dashboard's heat map and its drill-down count SLA breaches by ``due_at`` (when the clock ran
out) rather than ``fired_at`` (when the sweep noticed, hours later after a stop, and all at once
when a history is loaded): the index follows.
"""

from __future__ import annotations

from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_sla_events_kind_fired_at", table_name="sla_events")
    op.create_index("ix_sla_events_kind_due_at", "sla_events", ["kind", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_sla_events_kind_due_at", table_name="sla_events")
    op.create_index("ix_sla_events_kind_fired_at", "sla_events", ["kind", "fired_at"])
