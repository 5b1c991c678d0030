"""kpi rollup: per-case KPI facts, their daily sums, emotion counts, and the stale marks

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 12:45:00

``kpi_case_facts`` (one row per case: its slice and each additive metric's numerator and
denominator over that case), ``kpi_daily`` (their sums per local day × agent × group × channel × category × priority ×
business line),
``kpi_daily_moods`` (cases per day, group, channel, emotion and sentiment) and ``kpi_stale``
(tickets changed since, marked by triggers in the transaction of the change; db/kpi_triggers.py).
Every existing ticket is marked stale: the ``kpi_rollup`` job (or ``kefu kpi rebuild``, faster)
fills the tables.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from kefu.db import kpi_triggers

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_METRICS = (
    "first_response_mean", "average_response", "average_handle", "first_contact_resolution",
    "resolution_rate", "reopen_rate", "sla_compliance", "escalation_rate", "transfers_per_case",
    "self_service_rate", "csat", "nps", "ces", "survey_response_rate", "loop_completion",
    "repeat_complaint_rate",
)  # fmt: skip


def _sums() -> list[sa.Column[Any]]:
    columns = []
    for metric in _METRICS:
        columns.append(sa.Column(f"{metric}_n", sa.Float(), nullable=False))
        columns.append(sa.Column(f"{metric}_d", sa.Integer(), nullable=False))
    return columns


def _slice() -> list[sa.Column[Any]]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent_id", _ID, nullable=True),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("priority", sa.String(length=4), nullable=False),
        sa.Column("business_line", sa.String(length=100), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "kpi_case_facts",
        sa.Column("ticket_id", _ID, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_slice(),
        sa.Column("path", sa.String(length=20), nullable=False),
        sa.Column("emotion", sa.String(length=20), nullable=True),
        sa.Column("sentiment", sa.String(length=10), nullable=True),
        sa.Column("first_response_seconds", sa.Float(), nullable=True),
        *_sums(),
    )  # fmt: skip
    op.create_index("ix_kpi_case_facts_day", "kpi_case_facts", ["day"])
    op.create_index(
        "ix_kpi_case_facts_created_at", "kpi_case_facts", ["created_at"],
        postgresql_include=["day", "agent_id", "group_id", "channel", "category", "priority",
                            "business_line", "first_response_seconds"],
    )  # fmt: skip
    op.create_table(
        "kpi_daily",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        *_slice(),
        sa.Column("cases", sa.Integer(), nullable=False),
        *_sums(),
    )
    op.create_index("ix_kpi_daily_day", "kpi_daily", ["day"])
    op.create_table(
        "kpi_daily_moods",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("emotion", sa.String(length=20), nullable=True),
        sa.Column("sentiment", sa.String(length=10), nullable=True),
        sa.Column("cases", sa.Integer(), nullable=False),
    )
    op.create_index("ix_kpi_daily_moods_day", "kpi_daily_moods", ["day"])
    op.create_table(
        "kpi_stale",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", _ID, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.current_timestamp()),
    )  # fmt: skip
    op.create_index("ix_kpi_stale_ticket_id", "kpi_stale", ["ticket_id"])
    dialect = op.get_bind().dialect.name
    for statement in kpi_triggers.create_sql(dialect):
        op.execute(statement)
    op.execute("INSERT INTO kpi_stale (ticket_id) SELECT id FROM tickets")


def downgrade() -> None:
    for statement in kpi_triggers.drop_sql(op.get_bind().dialect.name):
        op.execute(statement)
    for table in ("kpi_stale", "kpi_daily_moods", "kpi_daily", "kpi_case_facts"):
        op.drop_table(table)
