"""Lifecycle automations and admins' triggers (自动化规则, services/automations/).

``ticket_automation_state`` holds the due times of the fixed rules (auto-close, nudge) as
columns the automation sweep reads ("the database is the clock"); it is kept in line with the
ticket in the transaction that changes the ticket's status or wait. ``automation_triggers``
are the admins' if/then rules (``domain.automations.Trigger`` as JSON), ``automation_firings``
what each did on each ticket, once per ticket and trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class TicketAutomationState(Base):
    __tablename__ = "ticket_automation_state"
    __table_args__ = (Index("ix_ticket_automation_state_due", "due_at"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    close_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nudge_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the earliest of the due times: the one column the sweep reads
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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
