"""Social listening (舆情预警): public posts and comments about the company, the alerts their
spikes and crisis signals raise, and the JSON feeds polled for them (services/social/)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow


class SocialMention(Base):
    """One public post or comment on Weibo, Douyin, Xiaohongshu …, analysed like a message."""

    __tablename__ = "social_mentions"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_social_mentions_posted_at", "posted_at"),
        Index("ix_social_mentions_category_posted_at", "category", "posted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))  # weibo | douyin | xiaohongshu | other
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="post")  # post | comment
    parent_external_id: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(1000))
    author_handle: Mapped[str] = mapped_column(String(100))
    author_name: Mapped[str] = mapped_column(String(100), default="")
    text: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # never after received_at
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sentiment: Mapped[str] = mapped_column(String(10))
    emotion: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))  # the topic
    intent: Mapped[str] = mapped_column(String(20))
    risks: Mapped[list[str]] = mapped_column(JSONData, default=list)  # crisis signals
    priority: Mapped[str] = mapped_column(String(2))
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_reasons: Mapped[dict[str, str]] = mapped_column(JSONData, default=dict)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # Where it came from: "webhook:<source id>" or "feed:<feed id>"; the webhook event id.
    source: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str | None] = mapped_column(String(200))


class SocialAlert(Base):
    """A spike of one topic or of all mentions, or crisis mentions: told once to supervisors
    and admins; later mentions of the same burst join it (domain/social_spikes.py)."""

    __tablename__ = "social_alerts"
    __table_args__ = (Index("ix_social_alerts_kind_topic_created", "kind", "topic", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # spike_topic | spike_overall | crisis
    topic: Mapped[str | None] = mapped_column(String(30))  # the category of a topic spike
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
    negative_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_share: Mapped[float] = mapped_column(Float, default=0.0)
    baseline_mean: Mapped[float] = mapped_column(Float, default=0.0)
    baseline_spread: Mapped[float] = mapped_column(Float, default=0.0)
    baseline_negative_share: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[str]] = mapped_column(JSONData, default=list)
    risks: Mapped[list[str]] = mapped_column(JSONData, default=list)  # of a crisis alert
    mention_ids: Mapped[list[int]] = mapped_column(JSONData, default=list)
    last_mention_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class SocialFeed(Base):
    """A JSON feed of posts (a list in the webhook body's shape) polled every few minutes
    through the outbound URL guard; ``next_poll_at`` is its clock."""

    __tablename__ = "social_feeds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(1000))
    interval_minutes: Mapped[int] = mapped_column(Integer, default=15)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor: Mapped[str | None] = mapped_column(String(200))  # the newest posted_at seen (ISO)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_count: Mapped[int] = mapped_column(Integer, default=0)  # new mentions of the last poll
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
