"""Webhooks in and out: the sources that post events to kefu (phone systems, SMS gateways, app
stores, social platforms), the event ids already taken from each (replays are ignored), and the
subscriptions of integrations to kefu's own events (services/webhooks/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class WebhookSource(Base):
    """A sender of Standard Webhooks to ``POST /api/v1/channels/webhook/{key}``: the event types
    it may post, its signing secret (``whsec_…``, sealed; shown once) and the clock skew allowed."""

    __tablename__ = "webhook_sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kinds: Mapped[list[str]] = mapped_column(JSONData, default=list)
    secret_sealed: Mapped[str] = mapped_column(Text)
    tolerance_seconds: Mapped[int] = mapped_column(Integer, default=300)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookReceipt(Base):
    """An event a source delivered, by its ``webhook-id``: a replay of the id is not taken again.
    ``outcome`` is what it became (``{"ticket_id", "message_id"}`` or ``{"mention_id"}``)."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (
        UniqueConstraint("source_id", "webhook_id"),
        Index("ix_webhook_receipts_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("webhook_sources.id", ondelete="CASCADE"))
    webhook_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[dict[str, int] | None] = mapped_column(JSONData)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookSubscription(Base):
    """An integration's subscription to kefu's events: each matching event is posted to ``url``
    through the outbox (channel ``webhook``), signed with the sealed ``whsec_…`` secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list[str]] = mapped_column(JSONData, default=list)
    secret_sealed: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    # Why it was switched off by kefu (the receiver answered 410 Gone); None: by an admin or on.
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
