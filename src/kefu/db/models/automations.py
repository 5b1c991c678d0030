"""Lifecycle automations and admins' triggers (自动化规则, services/automations/).

The due time of the fixed rules (auto-close, nudge) is a column of the ticket
(``tickets.auto_due_at``, "the database is the clock"), written with the ticket's status or
wait. ``automation_triggers``
are the admins' if/then rules (``domain.automations.Trigger`` as JSON), ``automation_firings``
what each did on each ticket, once per ticket and trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class AutomationTrigger(Base):
    __tablename__ = "automation_triggers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONData)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AutomationEvent(Base):
    """A ticket event an event trigger may answer, queued before the event's transaction commits
    and taken by the automation sweep after it (append-only: concurrent writers never clash)."""

    __tablename__ = "automation_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AutomationFiring(Base):
    """A trigger's firing on a ticket: what it did and what the complaint loop refused."""

    __tablename__ = "automation_firings"
    __table_args__ = (UniqueConstraint("ticket_id", "trigger_name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    trigger_name: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(30))
    done: Mapped[list[Any]] = mapped_column(JSONData, default=list)
    refused: Mapped[list[Any]] = mapped_column(JSONData, default=list)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceTimingRecord(Base):
    """The team's service timing (``domain.service_timing.ServiceTiming`` as JSON); one row,
    id 1, absent until an admin saves it (the server's settings apply meanwhile)."""

    __tablename__ = "service_timing"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONData)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
