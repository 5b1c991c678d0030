"""The outbox: everything kefu sends to a customer or an integration, one row per sending.

A row is written in the same transaction as what it sends (an agent's reply, later a bot's
answer, a survey) and delivered by the relay (services/outbound/) through the channel's
adapter (channels/). Its state follows domain/delivery.py; the message it sends carries the
same state in ``messages.delivery_state`` for the timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        # Receipts name a row by the channel's own id for it.
        Index("ix_outbox_channel_external_ref", "channel", "external_ref"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(BigId, index=True)
    channel: Mapped[str] = mapped_column(String(20))  # the adapter: webchat, api, email, …
    kind: Mapped[str] = mapped_column(String(20), default="message")
    # Where it goes, as the adapter needs it (a visitor id, an integration id and its URL).
    target: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    # What the receiver dedupes on: the same key is never shown twice.
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A relay that took the row holds it until then (a relay killed mid-send frees it).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(200))  # the channel's id for it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
