"""the supervisor board's index: the open tickets' queue facts, for aggregates without the rows

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:00:00

A partial index over the open tickets only (a few among a long history) holding what the
board counts per group and agent — group, assignee, priority, channel, the web chat's state and
the SLA deadlines — so its aggregates read the index and not the tickets (services/staff/board.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'open', 'pending')"
COLUMNS = [
    "group_id", "assignee_id", "priority", "channel", "chat_accepted_at", "merged_into_id",
    "first_response_due_at", "next_response_due_at", "resolution_due_at", "awaiting_reply_since",
    "status",  # only open ones here, but SQLite reads an index as covering only with it
]  # fmt: skip


def upgrade() -> None:
    op.create_index(
        "ix_tickets_open_work",
        "tickets",
        COLUMNS,
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_open_work", table_name="tickets")
