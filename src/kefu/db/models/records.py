"""Append-only records: the audit trail and the raw inbound payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class AuditEvent(Base):
    """Who did what to which object, when, with the fields before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_ticket", "ticket_id"),
        Index("ix_audit_events_customer", "customer_id"),
        Index("ix_audit_events_created_at", "created_at"),  # the retention sweep
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # user | integration | system
    # A user's id, or an integration's (actor_type says which), so no foreign key.
    actor_id: Mapped[int | None] = mapped_column(BigId)
    via: Mapped[str] = mapped_column(
        String(20), default="session"
    )  # session | token | cli | system | integration
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int] = mapped_column(BigId)
    ticket_id: Mapped[int | None] = mapped_column(BigId)
    customer_id: Mapped[int | None] = mapped_column(BigId)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundPayload(Base):
    """An inbound delivery exactly as received, stored before it is processed."""

    __tablename__ = "inbound_payloads"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_inbound_payloads_received_at", "received_at"),  # the retention sweep
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(BigId)
    ticket_id: Mapped[int | None] = mapped_column(BigId)
    # The integration that delivered it: only that one learns the ids of a redelivery.
    integration_id: Mapped[int | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
