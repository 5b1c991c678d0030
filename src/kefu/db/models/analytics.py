"""The KPI targets an admin set (over ``domain.kpi.targets.DEFAULT_TARGETS``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Date, Float, ForeignKey, Index, Integer, String, Table, func, text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, UTCDateTime, utcnow


class KpiTarget(Base):
    """One metric's threshold as an admin set it; the direction stays the default's."""

    __tablename__ = "kpi_targets"

    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    threshold: Mapped[float] = mapped_column(Float)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Pre-aggregated KPI figures (services/analytics/rollup.py). Every additive metric of
# domain/kpi/metrics.py is stored as its numerator ``<metric>_n`` and denominator ``<metric>_d``:
# per case in ``kpi_case_facts`` (the metric computed over that one case), summed per local day
# and slice in ``kpi_daily``. The column list is the migration's (0028).
ADDITIVE_METRICS = (
    "first_response_mean", "average_response", "average_handle", "first_contact_resolution",
    "resolution_rate", "reopen_rate", "sla_compliance", "escalation_rate", "transfers_per_case",
    "self_service_rate", "csat", "nps", "ces", "survey_response_rate", "loop_completion",
    "repeat_complaint_rate",
)  # fmt: skip
SUM_COLUMNS = tuple(f"{m}_{part}" for m in ADDITIVE_METRICS for part in ("n", "d"))


def _sums() -> list[Column[Any]]:
    return [
        Column(name, Float() if name.endswith("_n") else Integer(), nullable=False)
        for name in SUM_COLUMNS
    ]


def _slice_columns() -> list[Column[Any]]:
    return [
        Column("day", Date(), nullable=False),
        Column("agent_id", BigId, nullable=True),
        Column("group_id", BigId, nullable=True),
        Column("channel", String(20), nullable=False),
        Column("category", String(40), nullable=True),
        Column("priority", String(4), nullable=False),
        Column("business_line", String(100), nullable=True),
    ]


_RESPONSE_COLUMNS = ["day", "agent_id", "group_id", "channel", "category", "priority",
                     "business_line", "first_response_seconds"]  # fmt: skip

_WALKED = text("first_response_seconds IS NOT NULL")
_CARRIED = ["created_at", "ticket_id", "agent_id", "group_id", "channel"]

kpi_case_facts = Table(
    "kpi_case_facts",
    Base.metadata,
    Column("ticket_id", BigId, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("created_at", UTCDateTime(), nullable=False),
    *_slice_columns(),
    Column("path", String(20), nullable=False),
    Column("emotion", String(20), nullable=True),
    Column("sentiment", String(10), nullable=True),
    Column("first_response_seconds", Float(), nullable=True),
    *_sums(),
    Index("ix_kpi_case_facts_day", "day"),
    # The median first response reads these columns alone (an index-only scan on PostgreSQL).
    Index("ix_kpi_case_facts_created_at", "created_at", postgresql_include=_RESPONSE_COLUMNS),
    # The first response times sorted, overall, per day and per agent: a slice's median is read
    # at its middle rank (rollup_read, migration 0030).
    *[
        Index(name, *columns, postgresql_where=_WALKED, sqlite_where=_WALKED,
              postgresql_include=[c for c in _CARRIED if c not in columns])
        for name, columns in (
            ("ix_kpi_case_facts_response", ["first_response_seconds"]),
            ("ix_kpi_case_facts_day_response", ["day", "first_response_seconds"]),
            ("ix_kpi_case_facts_agent_response", ["agent_id", "first_response_seconds"]),
        )
    ],
)  # fmt: skip

kpi_daily = Table(
    "kpi_daily",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    *_slice_columns(),
    Column("cases", Integer(), nullable=False),
    *_sums(),
    Index("ix_kpi_daily_day", "day"),
)

# The sums of ``kpi_daily`` per day × agent × group × channel alone: the dimensions the dashboard
# slices and filters by, a small fraction of ``kpi_daily``'s rows (migration 0030).
DASHBOARD_COLUMNS = ("day", "agent_id", "group_id", "channel")
kpi_daily_agents = Table(
    "kpi_daily_agents",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    *[c for c in _slice_columns() if c.name in DASHBOARD_COLUMNS],
    Column("cases", Integer(), nullable=False),
    *_sums(),
    Index("ix_kpi_daily_agents_day", "day"),
)

# SLA breaches per local day and hour their clock ran out × the case's group, channel and agent:
# the dashboard's heat map (services/analytics/rollup_breaches.py, migration 0030).
kpi_breach_hours = Table(
    "kpi_breach_hours",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("day", Date(), nullable=False),
    Column("hour", Integer(), nullable=False),
    Column("group_id", BigId, nullable=True),
    Column("channel", String(20), nullable=False),
    Column("agent_id", BigId, nullable=True),
    Column("breaches", Integer(), nullable=False),
    Index("ix_kpi_breach_hours_day", "day"),
)

kpi_daily_moods = Table(
    "kpi_daily_moods",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("day", Date(), nullable=False),
    Column("group_id", BigId, nullable=True),
    Column("channel", String(20), nullable=False),
    Column("emotion", String(20), nullable=True),
    Column("sentiment", String(10), nullable=True),
    Column("cases", Integer(), nullable=False),
    Index("ix_kpi_daily_moods_day", "day"),
)

# Tickets whose figures changed since they were last rolled up: one row per change, written by
# database triggers in the transaction of the change (migration 0028), removed by the refresh.
kpi_stale = Table(
    "kpi_stale",
    Base.metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ticket_id", BigId, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("marked_at", UTCDateTime(), nullable=False, server_default=func.current_timestamp()),
)  # fmt: skip
