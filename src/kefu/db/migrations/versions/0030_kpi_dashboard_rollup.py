"""kpi rollup for the dashboard at scale: daily sums per agent, group and channel; the first
response times in sorted indexes; SLA breaches per local day and hour

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 16:30:00

``kpi_daily_agents`` holds the sums of ``kpi_daily`` per local day × agent × group × channel
only, the dimensions the dashboard slices and filters by: a year of it is a few tens of
thousands of rows where ``kpi_daily`` (seven dimensions) has nearly one per case. Three partial
indexes keep the cases' first response times sorted (overall, per day, per agent) so the median
of a slice is read at its middle rank instead of sorting every value of the period.
``kpi_breach_hours`` counts SLA breaches per local day and hour their clock ran out × the case's
group, channel and agent (the heat map), filled here from ``sla_events`` in the rollup's zone
(Asia/Shanghai, UTC+8 all year).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_METRICS = (
    "first_response_mean", "average_response", "average_handle", "first_contact_resolution",
    "resolution_rate", "reopen_rate", "sla_compliance", "escalation_rate", "transfers_per_case",
    "self_service_rate", "csat", "nps", "ces", "survey_response_rate", "loop_completion",
    "repeat_complaint_rate",
)  # fmt: skip
_SUMS = [f"{m}_{part}" for m in _METRICS for part in ("n", "d")]
_KEYS = ["day", "agent_id", "group_id", "channel"]
_WALKED = sa.text("first_response_seconds IS NOT NULL")
_CARRIED = ["created_at", "ticket_id", "agent_id", "group_id", "channel"]
_LOCAL_HOUR = {  # SELECT the local day and hour a breach fell due (Asia/Shanghai: UTC+8)
    "postgresql": "SELECT (timezone('Asia/Shanghai', e.due_at))::date, "
    "extract(hour from timezone('Asia/Shanghai', e.due_at))::int",
    "sqlite": "SELECT date(e.due_at, '+8 hours'), "
    "cast(strftime('%H', e.due_at, '+8 hours') as integer)",
}


def _sums() -> list[sa.Column[Any]]:
    return [
        sa.Column(name, sa.Float() if name.endswith("_n") else sa.Integer(), nullable=False)
        for name in _SUMS
    ]


def upgrade() -> None:
    op.create_table(
        "kpi_daily_agents",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent_id", _ID, nullable=True),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        *_sums(),
    )
    op.create_index("ix_kpi_daily_agents_day", "kpi_daily_agents", ["day"])
    keys, sums = ", ".join(_KEYS), ", ".join(_SUMS)
    totals = ", ".join(f"sum({c})" for c in _SUMS)
    op.execute(
        f"INSERT INTO kpi_daily_agents ({keys}, cases, {sums}) "  # noqa: S608 - fixed names
        f"SELECT {keys}, count(*), {totals} FROM kpi_case_facts GROUP BY {keys}"
    )
    for name, columns in (
        ("ix_kpi_case_facts_response", ["first_response_seconds"]),
        ("ix_kpi_case_facts_day_response", ["day", "first_response_seconds"]),
        ("ix_kpi_case_facts_agent_response", ["agent_id", "first_response_seconds"]),
    ):
        op.create_index(
            name, "kpi_case_facts", columns,
            postgresql_where=_WALKED, sqlite_where=_WALKED,
            postgresql_include=[c for c in _CARRIED if c not in columns],
        )  # fmt: skip

    op.create_table(
        "kpi_breach_hours",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("group_id", _ID, nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("agent_id", _ID, nullable=True),
        sa.Column("breaches", sa.Integer(), nullable=False),
    )
    op.create_index("ix_kpi_breach_hours_day", "kpi_breach_hours", ["day"])
    local_hour = _LOCAL_HOUR[op.get_bind().dialect.name]
    op.execute(
        "INSERT INTO kpi_breach_hours (day, hour, group_id, channel, agent_id, breaches) "
        + local_hour
        + ", t.group_id, t.channel, t.assignee_id, count(*) "
        "FROM sla_events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.kind = 'breach' AND t.merged_into_id IS NULL GROUP BY 1, 2, 3, 4, 5"
    )


def downgrade() -> None:
    op.drop_index("ix_kpi_breach_hours_day", table_name="kpi_breach_hours")
    op.drop_table("kpi_breach_hours")
    for name in (
        "ix_kpi_case_facts_agent_response",
        "ix_kpi_case_facts_day_response",
        "ix_kpi_case_facts_response",
    ):
        op.drop_index(name, table_name="kpi_case_facts")
    op.drop_index("ix_kpi_daily_agents_day", table_name="kpi_daily_agents")
    op.drop_table("kpi_daily_agents")
